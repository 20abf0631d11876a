"""The contract between the flows and the code: what the Python code relies on in `flows/`.

Trainers may change every text, add steps and flows, reorder them. A few names, though, are
read by the code: the steps that commands and shortcuts jump to, the answers that actions read
back (`save:` names), and the routes (where the charter starts, where each role's home is).
They are declared here, once; the engine imports them from here, and `mentorbot flows
validate` (and every start of the bot) fails, naming each one, when a flow removes or renames
one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.flows.model import Expect, Target

# -- routes: the entry points of `routes:` ---------------------------------------------------

ROUTES: dict[str, str] = {
    "charter": "where a person who has not signed the charter is sent",
    "mentee": "the mentee's home (the menu after each action)",
    "mentor": "the mentor's home (the menu after each action)",
}

# -- steps the code jumps to -----------------------------------------------------------------

ANSWER_STEP = Target("mentor", "answer_text")
REDIRECT_STEP = Target("mentor", "redirect_how")
FOLLOWUP_STEP = Target("question", "followup")


@dataclass(frozen=True, slots=True)
class StepNeed:
    """A step the code enters by name, and what it must be for the code to work."""

    target: Target
    expect: Expect
    save: str | None
    why: str


STEPS: tuple[StepNeed, ...] = (
    StepNeed(ANSWER_STEP, Expect.TEXT, "answer",
             "the /repondre command and the digest's reply choice enter it"),
    StepNeed(REDIRECT_STEP, Expect.CHOICE, None,
             "the digest's redirect choice enters it"),
    StepNeed(FOLLOWUP_STEP, Expect.TEXT, "followup",
             "the answer's follow-up choice enters it"),
)

# -- saved answers the actions read back -----------------------------------------------------

QUESTION_PARTS = ("context", "analysis", "ask")
SIGNATURE = "signature_name"
QID = "qid"

# action -> the `save:` names it reads (a flow that names the action must save them)
ACTION_READS: dict[str, tuple[str, ...]] = {
    "sign_charter": (SIGNATURE,),
    "submit_question": QUESTION_PARTS,
    "select_question": (QID,),
    "select_own_question": (QID,),
    "answer_question": (QID, "answer"),
    "redirect_to_session": (QID, "proposal"),
    "redirect_to_professional": (QID, "proposal"),
    "add_followup": (QID, "followup"),
}

# -- the confidentiality policy --------------------------------------------------------------

# A free-text step holds identifying data and asks the person what to do, unless the step opts
# out with `confidentiality: false` (its identifying data is then masked without asking).
CONFIDENTIALITY = "confidentiality"

// mentorbot studio: draws the state the server keeps; every action is a JSON POST.
"use strict";

const ui = {
  state: null,
  locale: "",
  style: "telegram",
  panes: null,          // person ids shown, in order (null: the server's default)
  flow: "",
  flowChosen: false,    // true once the trainer picks a flow; until then, the first pane's
  diagramSeq: 0,        // only the latest drawing request lands
  diagramText: "",
  loading: false,
  again: false,
};

const $ = (id) => document.getElementById(id);
const t = (key) => (ui.state && ui.state.texts[key]) || key;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify(body || {}),
  });
  const data = await response.json().catch(() => ({}));
  await refresh();
  return data;
}

async function refresh() {
  if (ui.loading) { ui.again = true; return; }
  ui.loading = true;
  try {
    do {
      ui.again = false;
      const response = await fetch("/api/state?locale=" + encodeURIComponent(ui.locale));
      if (response.ok) draw(await response.json());
    } while (ui.again);
  } finally {
    ui.loading = false;
  }
}

// -- drawing ---------------------------------------------------------------------------

function draw(state) {
  const relabel = !ui.state || ui.state.locale !== state.locale;
  ui.state = state;
  ui.locale = state.locale;
  if (ui.panes === null) ui.panes = state.panes.slice();
  ui.panes = ui.panes.filter((id) => state.views[id]);
  document.documentElement.lang = state.locale;
  if (relabel) {
    for (const node of document.querySelectorAll("[data-text]")) node.textContent = t(node.dataset.text);
    document.title = t("studio_title");
    $("title").textContent = t("studio_title");
    for (const pane of document.querySelectorAll(".pane")) pane.remove();
  }
  $("now").textContent = state.now_text;
  $("open-state").textContent = state.open ? t("studio_open") : t("studio_closed");
  $("open-state").className = state.open ? "open" : "closed";
  fillSelect($("page-locale"), state.locales.map((l) => [l, l]), state.locale);
  fillSelect($("add-person"), state.people.filter((p) => !ui.panes.includes(p.id))
    .map((p) => [p.id, `${p.name || p.id} (${p.id})`]));
  fillSelect($("story-select"), state.stories.map((s) => [s, s]));
  drawPanes(state);
  drawProblems(state);
  drawStory(state);
  drawDiagram(state);
}

function fillSelect(select, options, selected) {
  const wanted = JSON.stringify(options);
  if (select.dataset.options === wanted) return;
  const keep = selected !== undefined ? selected : select.value;
  select.replaceChildren(...options.map(([value, label]) => el("option", {value, text: label})));
  select.dataset.options = wanted;
  if (options.some(([value]) => value === keep)) select.value = keep;
}

function drawPanes(state) {
  const host = $("panes");
  const existing = new Map([...host.querySelectorAll(".pane")].map((p) => [p.dataset.person, p]));
  for (const [id, pane] of existing) if (!ui.panes.includes(id)) pane.remove();
  ui.panes.forEach((id, position) => {
    let pane = existing.get(id);
    if (!pane) pane = makePane(state, id);
    if (host.children[position] !== pane) host.insertBefore(pane, host.children[position] || null);
    updatePane(state, pane, id);
  });
}

function makePane(state, id) {
  const person = state.people.find((p) => p.id === id);
  const input = el("input", {type: "text", id: `message-${id}`, autocomplete: "off"});
  const form = el("form", {class: "say", onsubmit: (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    post("/api/say", {person: id, text});
  }},
  el("label", {for: `message-${id}`, text: t("studio_message")}), input,
  el("button", {type: "submit", text: t("studio_send")}));
  const language = el("select", {id: `locale-${id}`, onchange: (event) =>
    post("/api/locale", {person: id, locale: event.target.value})});
  const pane = el("section", {class: `pane ${person.role}`, "aria-label": id, "data-person": id},
    el("header", {},
      el("h2", {text: person.name || id}),
      el("p", {class: "who", text: `${id} · ${person.role}`}),
      el("p", {}, el("label", {for: `locale-${id}`, text: t("studio_language")}), " ", language),
      el("button", {type: "button", class: "close", text: t("studio_close_pane"), onclick: () => {
        ui.panes = ui.panes.filter((p) => p !== id);
        draw(ui.state);
        $("add-person").focus();
      }})),
    el("ol", {role: "log", class: "log", "aria-label": person.name || id}),
    form,
    el("details", {class: "inspector", open: true},
      el("summary", {text: t("studio_inspector")}), el("div", {class: "inspect"})));
  return pane;
}

function updatePane(state, pane, id) {
  const view = state.views[id];
  fillSelect(pane.querySelector("select"), state.locales.map((l) => [l, l]), view.locale);
  pane.querySelector("select").value = view.locale;
  const log = pane.querySelector(".log");
  const shown = new Map([...log.children].map((li) => [li.dataset.id, li]));
  for (const bubble of state.bubbles) {
    if (bubble.person !== id) continue;
    const key = `${bubble.id}:${ui.style}:${bubble.verdicts.length}`;
    const old = shown.get(String(bubble.id));
    if (old && old.dataset.key === key) continue;
    const item = drawBubble(bubble, id);
    item.dataset.key = key;
    if (old) old.replaceWith(item); else log.append(item);
  }
  log.scrollTop = log.scrollHeight;
  pane.querySelector(".inspect").replaceChildren(drawInspector(view));
}

function highlighted(text, verdicts) {
  const marks = verdicts.flatMap((v) => v.marks).sort((a, b) => a.start - b.start);
  const chars = Array.from(text);  // offsets count code points, as Python does
  const out = el("p", {class: "text"});
  let at = 0;
  for (const mark of marks) {
    if (mark.start < at) continue;
    out.append(chars.slice(at, mark.start).join(""));
    const label = t("kind_" + mark.kind);
    out.append(el("mark", {"data-kind": mark.kind, title: label},
      chars.slice(mark.start, mark.end).join(""), el("span", {class: "kind", text: ` (${label})`})));
    at = mark.end;
  }
  out.append(chars.slice(at).join(""));
  return out;
}

function drawBubble(bubble, person) {
  const item = el("li", {class: `bubble ${bubble.direction}`, "data-id": String(bubble.id)});
  item.append(el("span", {class: "time", text: bubble.at}));
  if (bubble.direction === "in") {
    item.append(highlighted(bubble.text, bubble.verdicts));
    if (bubble.verdicts.length) {
      const list = el("ul", {class: "verdicts", "aria-label": t("studio_verdicts")});
      for (const v of bubble.verdicts) {
        let said = `${t("studio_policy_" + v.policy)} : ${t("studio_outcome_" + v.outcome)}`;
        if (v.until) said += ` (${v.until})`;
        list.append(el("li", {class: `verdict ${v.policy} ${v.outcome}`, text: said}));
      }
      item.append(list);
    }
    return item;
  }
  const shown = bubble[ui.style];
  if (bubble.document) item.append(el("p", {class: "document", text: `\u{1F4CE} ${bubble.document.filename}`}));
  for (const part of shown.parts) item.append(el("p", {class: "text", text: part}));
  if (!shown.buttons.length) return item;
  const press = (b) => post("/api/say", b.prompt ? {person, index: b.index, prompt: b.prompt}
    : {person, index: b.index});
  const buttons = el("div", {class: `choices ${shown.kind}`});
  for (const b of shown.buttons) {
    buttons.append(el("button", {type: "button", onclick: () => press(b), title: b.description || null},
      b.label));
  }
  if (shown.kind === "list") {
    buttons.hidden = true;
    const opener = el("button", {type: "button", class: "list-opener", "aria-expanded": "false",
      onclick: () => {
        buttons.hidden = !buttons.hidden;
        opener.setAttribute("aria-expanded", String(!buttons.hidden));
      }}, shown.list_button);
    item.append(opener);
  }
  item.append(buttons);
  return item;
}

function drawInspector(view) {
  const none = t("studio_nothing");
  const rows = [
    [t("studio_flow_step"), view.flow ? `${view.flow} : ${view.step}` : none],
    [t("studio_pending"), view.pending || none],
    [t("studio_consent"), view.withdrawn ? t("studio_withdrawn")
      : (view.signed ? t("studio_signed") : t("studio_not_signed"))],
  ];
  const dl = el("dl", {});
  for (const [k, v] of rows) dl.append(el("dt", {text: k}), el("dd", {text: v}));
  const answers = Object.entries(view.answers);
  dl.append(el("dt", {text: t("studio_answers")}),
    el("dd", {}, answers.length ? el("ul", {}, ...answers.map(([k, v]) => el("li", {text: `${k} : ${v}`})))
      : none));
  dl.append(el("dt", {text: t("studio_signatures")}),
    el("dd", {}, view.signatures.length ? el("ul", {}, ...view.signatures.map((s) =>
      el("li", {text: `${s.name} — ${s.at} — ${s.version}`}))) : none));
  dl.append(el("dt", {text: t("studio_questions")}),
    el("dd", {}, view.questions.length ? el("ul", {}, ...view.questions.map((q) =>
      el("li", {text: `${q.id} (${q.mentee}) — ${q.status}${q.ask ? " — " + q.ask : ""}`}))) : none));
  if (view.waiting) dl.append(el("dt", {text: t("studio_waiting")}), el("dd", {text: String(view.waiting)}));
  return dl;
}

function drawProblems(state) {
  const box = $("problems");
  if (!state.problems.length) {
    box.replaceChildren(el("p", {class: "valid", text: t("studio_flows_valid")}));
    return;
  }
  box.replaceChildren(el("p", {text: t("studio_flow_errors")}),
    el("ul", {}, ...state.problems.map((p) => el("li", {}, el("code", {text: p})))));
}

function drawStory(state) {
  $("saved").textContent = state.saved ? `${t("studio_saved")} ${state.saved}` : "";
  const replay = state.replay;
  $("next-step").disabled = !replay || replay.position >= replay.total;
  $("replay-name").textContent = replay ? `${replay.name} — ${replay.position}/${replay.total}` : "";
  $("replay-results").replaceChildren(...(replay ? replay.results : []).map((r) =>
    el("li", {class: r.ok ? "ok" : "failed",
      text: `${t("studio_step")} ${r.step} : ${r.ok ? t("studio_step_ok") : t("studio_step_failed")}`})));
}

async function drawDiagram(state) {
  const select = $("flow-select");
  fillSelect(select, state.flows.map((f) => [f, f]));
  if (!ui.flowChosen || !state.flows.includes(ui.flow)) {
    const first = ui.panes.map((id) => state.views[id]).find((v) => v && v.flow);
    ui.flow = first ? first.flow : state.flows[0];
  }
  select.value = ui.flow;
  const query = `flow=${encodeURIComponent(ui.flow)}&people=${encodeURIComponent(ui.panes.join(","))}`;
  const seq = ++ui.diagramSeq;
  const response = await fetch("/api/diagram?" + query);
  if (!response.ok || seq !== ui.diagramSeq) return;
  const {text} = await response.json();
  if (text === ui.diagramText || seq !== ui.diagramSeq) return;
  ui.diagramText = text;
  const drawing = state.mermaid && window.mermaid && !window.noMermaid;
  $("no-drawing").hidden = drawing;
  $("diagram-text").hidden = drawing;
  $("diagram-text").textContent = text;
  if (!drawing) return;
  try {
    const {svg} = await window.mermaid.render("flow-diagram-" + seq, text);
    if (seq !== ui.diagramSeq) return;
    $("diagram").innerHTML = svg;
    $("diagram").setAttribute("role", "img");
    $("diagram").setAttribute("aria-label", `${t("studio_diagram")} : ${ui.flow}`);
  } catch (error) {
    $("diagram-text").hidden = false;
  }
}

// -- controls --------------------------------------------------------------------------

function wire() {
  $("plus-hour").addEventListener("click", () => post("/api/clock", {action: "hour"}));
  $("next-opening").addEventListener("click", () => post("/api/clock", {action: "opening"}));
  $("next-digest").addEventListener("click", () => post("/api/clock", {action: "digest"}));
  $("go-date").addEventListener("click", () => {
    if ($("date-input").value) post("/api/clock", {action: "date", at: $("date-input").value});
  });
  for (const radio of document.querySelectorAll("input[name=style]")) {
    radio.addEventListener("change", () => { ui.style = radio.value; draw(ui.state); });
  }
  $("add-pane").addEventListener("click", () => {
    const id = $("add-person").value;
    if (id && !ui.panes.includes(id)) { ui.panes.push(id); draw(ui.state); }
  });
  $("page-locale").addEventListener("change", (event) => { ui.locale = event.target.value; refresh(); });
  $("flow-select").addEventListener("change", (event) => {
    ui.flow = event.target.value; ui.flowChosen = true; ui.diagramText = ""; drawDiagram(ui.state);
  });
  $("save-story").addEventListener("click", () => post("/api/story/save", {name: $("story-name").value}));
  $("load-story").addEventListener("click", () => {
    if ($("story-select").value) {
      ui.panes = null;
      for (const pane of document.querySelectorAll(".pane")) pane.remove();
      post("/api/story/load", {name: $("story-select").value});
    }
  });
  $("next-step").addEventListener("click", () => post("/api/story/step"));
  if (window.mermaid) window.mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
  new EventSource("/events").onmessage = () => refresh();
  refresh();
}

wire();

"""The WhatsApp webhook answers an error (so that Meta retries) when a message cannot be stored,
and 200 once it can: the retry is handled once."""

from __future__ import annotations

from bot.store import SQLiteStore
from tests.storeview import StoreFault
from tests.transports.conftest import WA_MENTEE, World

MENTEE = f"whatsapp:{WA_MENTEE}"


async def test_a_whatsapp_batch_that_cannot_be_stored_gets_an_error_to_retry(
        world: World) -> None:
    graph = world.graph
    assert graph is not None
    store = world.engine.store
    assert isinstance(store, SQLiteStore)
    fault = StoreFault(store, "journal", MENTEE)  # an I/O fault: the journal cannot be written
    payload = world.wa.wrap(WA_MENTEE, world.wa.text(WA_MENTEE, "/start"))
    response = await world.post_whatsapp(payload)
    assert response.status_code == 500 and response.json() == {"status": "error"}
    assert graph.accepted() == []
    fault.heal()
    response = await world.post_whatsapp(payload)  # Meta delivers the same payload again
    assert response.status_code == 200
    assert len(graph.accepted(WA_MENTEE)) == 2
    assert [e.text for e in world.journal(MENTEE) if e.direction == "in"] == ["/start"]

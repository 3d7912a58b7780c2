"""Partners' personal data never reaches Temporal in clear: a stored history read raw."""

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from infra.payload_codec import ENCODING
from services.intake import submit_eoi
from tests.support import unique_eoi, wait_for
from workflows import search_attributes as sa
from workflows.contracts import MatchLifecycleInput


def _personal(eoi) -> list[bytes]:
    contacts = (eoi.adopter.contact, eoi.solution.contact)
    return [value.encode() for c in contacts for value in (c.name, c.email)]


async def test_a_stored_history_read_raw_holds_no_contact_and_decodes_with_the_codec(stack):
    eoi = unique_eoi()
    result = await submit_eoi(stack.backend, eoi=eoi)
    await wait_for(lambda: len(stack.mail.messages) == 2)  # activities ran: their payloads too
    # a client of the same server WITHOUT the codec: what an operator of Temporal sees
    raw = Client(
        stack.client.service_client,
        namespace=stack.client.namespace,
        data_converter=pydantic_data_converter,
    )
    history = await raw.get_workflow_handle(result.workflow_id).fetch_history()
    stored = b"".join(event.SerializeToString() for event in history.events)
    assert len(history.events) > 10 and b"binary/encrypted" in stored
    for value in _personal(eoi):
        assert value not in stored, f"{value!r} is stored in clear"
        assert value.lower() not in stored.lower()

    started = history.events[0].workflow_execution_started_event_attributes
    [payload] = started.input.payloads
    assert payload.metadata["encoding"] == ENCODING
    [decoded] = await stack.client.data_converter.decode([payload], [MatchLifecycleInput])
    assert decoded.eoi == eoi
    # what stays readable without the codec: search attributes and the summary, no person
    description = await raw.get_workflow_handle(result.workflow_id).describe()
    assert description.typed_search_attributes.get(sa.ADOPTER_COUNTRY) == "KZ"
    assert await description.static_summary() == eoi.summary()
    for value in _personal(eoi):
        assert value.decode() not in eoi.summary() + (await description.static_details() or "")

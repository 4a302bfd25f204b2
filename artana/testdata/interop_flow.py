"""One flow, run by the Python original of artana, to compare with the Go kernel.

usage:
    python3 interop_flow.py write DB_PATH
        runs the flow live with a fixed clock and fixed event ids and prints
        one JSON object per kernel_events row of run "interop_run", in seq order;
    python3 interop_flow.py replay ROWS_JSONL DB_PATH
        loads rows in the same form (a ledger the Go kernel wrote) into a new
        SQLite ledger, runs the same flow against it with a model and a tool
        that fail if called, and fails unless every step replays and nothing
        is appended. Prints {"events": N, "appended": 0}.

The flow (artana/interop_test.go runs the same one in Go): a model step
whose output holds a float and U+2028, a second model step, a tool step
with arguments {"big": 1e16, "cap": 100.0, "n": 3} whose tool sets every
completion field a tool can, a workflow with a json_step_serde step and a
pydantic_step_serde step returning floats, a pause with a context, and a
resume with human input.

The Python original has no replay for pauses (WorkflowContext.pause always
appends), so the replaying workflow stops after its steps.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import uuid
from datetime import datetime, timedelta, timezone

from pydantic import BaseModel

import artana.store.sqlite as seed_sqlite
from artana import (
    ArtanaKernel,
    ModelInput,
    SQLiteStore,
    TenantContext,
    json_step_serde,
    pydantic_step_serde,
)
from artana.ports.model import ModelResult, ModelUsage, ToolCall
from artana.ports.tool import ToolExecutionContext, ToolExecutionResult

RUN_ID = "interop_run"
# U+2028 and U+2029, DEL, HTML characters and non-ASCII: pydantic writes them
# raw, json.dumps escapes all but <>&.
TEXT = "line\u2028sep\u2029end <b>&amp;</b> caf\u00e9 \u2713 del\x7f tab\t"
PROMPT = "Score this:\u2028" + TEXT


# --- fixed event ids and clock, as artanatest's sequential ids and stepping clock

class _IDs:
    n = 0


def _uuid4() -> uuid.UUID:
    _IDs.n += 1
    return uuid.UUID(int=_IDs.n)


class _Clock:
    next = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # noqa: ANN001 - mirrors datetime.now
        t = _Clock.next
        _Clock.next = t + timedelta(milliseconds=1)
        return t


seed_sqlite.uuid4 = _uuid4
seed_sqlite.datetime = _ClockDatetime


# --- the flow's types ----------------------------------------------------------

class Scored(BaseModel):
    score: float
    text: str


class MeasureArgs(BaseModel):
    big: float
    cap: float
    n: int


class Measured(BaseModel):
    ratio: float
    label: str
    n: int


class Note(BaseModel):
    note: str
    score: float


class ReviewContext(BaseModel):
    amount: float
    memo: str


class Approval(BaseModel):
    approved_amount: float
    by: str


class FakeModel:
    def __init__(self, live: bool) -> None:
        self.live = live

    async def complete(self, request):  # noqa: ANN001, ANN201 - ModelPort
        if not self.live:
            raise AssertionError("replay called the model")
        if request.prompt == PROMPT:
            return ModelResult(
                output=Scored(score=100.0, text=TEXT),
                usage=ModelUsage(prompt_tokens=7, completion_tokens=3, cost_usd=1e-05),
                tool_calls=(ToolCall(tool_name="measure", arguments_json='{"big": 1e16, "cap": 100.0, "n": 3}'),),
            )
        return ModelResult(
            output=Scored(score=1e-05, text="again \u2029"),
            usage=ModelUsage(prompt_tokens=5, completion_tokens=2, cost_usd=0.0),
        )


async def flow(kernel: ArtanaKernel, tenant: TenantContext, live: bool) -> None:
    if live:
        run = await kernel.start_run(tenant=tenant, run_id=RUN_ID)
    else:
        run = await kernel.load_run(run_id=RUN_ID)
    first = await kernel.step_model(run_id=run.run_id, tenant=tenant, model="fake-model",
                                    input=ModelInput.from_prompt(PROMPT), output_schema=Scored,
                                    step_key="score.v1")
    assert first.replayed != live and first.output == Scored(score=100.0, text=TEXT), first
    second = await kernel.step_model(run_id=run.run_id, tenant=tenant, model="fake-model",
                                     input=ModelInput.from_prompt("again"), output_schema=Scored,
                                     step_key="raw.v1")
    assert second.replayed != live and second.output.score == 1e-05, second
    measured = await kernel.step_tool(run_id=run.run_id, tenant=tenant, tool_name="measure",
                                      arguments=MeasureArgs(big=1e16, cap=100.0, n=3),
                                      step_key="measure.v1")
    assert measured.replayed != live, measured
    assert Measured.model_validate_json(measured.result_json) == Measured(ratio=0.03, label=TEXT, n=3)

    async def must_not_run():
        raise AssertionError("replay ran a workflow step")

    async def workflow(ctx):  # noqa: ANN001, ANN202
        async def totals():
            return {"total": 100.0, "tiny": 1e-05, "big": 1e16, "count": 3, "text": TEXT}

        got = await ctx.step(name="totals", action=totals if live else must_not_run,
                             serde=json_step_serde())
        assert got["total"] == 100.0 and got["count"] == 3, got

        async def note():
            return Note(note=TEXT, score=100.0)

        n = await ctx.step(name="note", action=note if live else must_not_run,
                           serde=pydantic_step_serde(Note))
        assert n == Note(note=TEXT, score=100.0), n
        if live:
            await ctx.pause("needs review", context=ReviewContext(amount=100.0, memo=TEXT),
                            step_key="review")
        return n

    result = await kernel.run_workflow(run_id=run.run_id, tenant=tenant, workflow=workflow)
    assert result.status == ("paused" if live else "complete"), result
    if live:
        await kernel.resume(run_id=run.run_id, tenant=tenant,
                            human_input=Approval(approved_amount=100.0, by="Zo\u00eb \u2029"))


def make_kernel(db: str, live: bool) -> ArtanaKernel:
    kernel = ArtanaKernel(store=SQLiteStore(db), model_port=FakeModel(live))
    calls = [0]

    @kernel.tool()
    async def measure(big: float, cap: float, n: int, artana_context: ToolExecutionContext) -> ToolExecutionResult:
        if not live:
            raise AssertionError("replay ran the tool")
        calls[0] += 1
        assert (big, cap, n) == (1e16, 100.0, 3), (big, cap, n)
        return ToolExecutionResult(
            outcome="success",
            result_json=Measured(ratio=n / cap, label=TEXT, n=n).model_dump_json(),
            received_idempotency_key="provider:" + artana_context.idempotency_key[:12],
            effect_id="eff_measure_1",
            request_id=artana_context.request_event_id,
            error_message="rounded to 2 digits",
        )

    return kernel


TENANT = TenantContext(tenant_id="org_interop", budget_usd_limit=1.0)
COLUMNS = ("run_id", "seq", "event_id", "tenant_id", "event_type", "prev_event_hash",
           "event_hash", "timestamp", "payload_json")


def rows(db: str) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    out = [dict(r) for r in con.execute(
        "SELECT * FROM kernel_events WHERE run_id = ? ORDER BY seq", (RUN_ID,))]
    con.close()
    return out


async def write(db: str) -> None:
    kernel = make_kernel(db, live=True)
    await flow(kernel, TENANT, live=True)
    await kernel.close()
    for row in rows(db):
        print(json.dumps(row))


async def replay(rows_path: str, db: str) -> None:
    store = SQLiteStore(db)
    await store._ensure_connection()  # creates the table
    await store.close()
    con = sqlite3.connect(db)
    with open(rows_path, encoding="utf-8") as f:
        loaded = [json.loads(line) for line in f if line.strip()]
    con.executemany(
        f"INSERT INTO kernel_events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})",
        [tuple(r[c] for c in COLUMNS) for r in loaded])
    con.commit()
    con.close()
    kernel = make_kernel(db, live=False)
    assert await kernel._store.verify_run_chain(RUN_ID), "the chain does not verify"
    await flow(kernel, TENANT, live=False)
    await kernel.close()
    after = rows(db)
    print(json.dumps({"events": len(loaded), "appended": len(after) - len(loaded)}))
    if len(after) != len(loaded):
        sys.exit(f"replay appended {len(after) - len(loaded)} events")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        asyncio.run(write(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "replay":
        asyncio.run(replay(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)

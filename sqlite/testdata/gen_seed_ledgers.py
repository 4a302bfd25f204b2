"""Generate the seed ledgers under testdata/seed/ with the Python original.

Every ledger is written by the Python original's own kernel and
SQLiteStore. Event ids and the store's clock are replaced by deterministic
ones (a seeded uuid4 and a stepping clock), so that running the script again
writes the same events.

usage (from the repository root):

    ARTANA_SEED_DIR=/tmp/artana-seed \\
    PYTHONPATH=$ARTANA_SEED_DIR/src:$ARTANA_SEED_DIR/.deps/usr/lib/python3/dist-packages \\
    python3 sqlite/testdata/gen_seed_ledgers.py sqlite/testdata/seed

The ledgers, their runs and what each covers are listed in
testdata/seed/README.md and in expected.json, which this script writes.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import sqlite3
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

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
from artana.events import ChatMessage
from artana.middleware import (
    CapabilityGuardMiddleware,
    PIIScrubberMiddleware,
    QuotaMiddleware,
)
from artana.ports.model import ModelResult, ModelUsage, ToolCall
from artana.ports.tool import (
    ToolExecutionResult,
    ToolPermanentError,
    ToolTransientError,
    ToolUnknownOutcomeError,
)

# --- deterministic ids and clock -------------------------------------------

_rng = random.Random(20240229)


def _uuid4() -> uuid.UUID:
    return uuid.UUID(int=_rng.getrandbits(128), version=4)


class _Clock:
    """Timestamps for the store: a start and a step, or a fixed list."""

    def __init__(self) -> None:
        self.reset(datetime(2026, 11, 25, 17, 48, 8, 123457, tzinfo=timezone.utc))

    def reset(self, start: datetime, step: timedelta = timedelta(microseconds=1_234_567),
              fixed: list[datetime] | None = None) -> None:
        self.next, self.step, self.fixed = start, step, list(fixed or [])

    def tick(self) -> datetime:
        if self.fixed:
            return self.fixed.pop(0)
        t = self.next
        self.next = t + self.step
        return t


CLOCK = _Clock()


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # noqa: ANN001 - mirrors datetime.now
        return CLOCK.tick()


seed_sqlite.uuid4 = _uuid4
seed_sqlite.datetime = _ClockDatetime

# --- a fake model ------------------------------------------------------------


class FakeModel:
    """Returns queued outputs; usage and tool calls per call."""

    def __init__(self, replies: list[tuple[dict, ModelUsage, tuple[ToolCall, ...]]]) -> None:
        self.replies = list(replies)
        self.calls = 0

    async def complete(self, request):  # noqa: ANN001, ANN201 - ModelPort
        self.calls += 1
        output, usage, calls = self.replies.pop(0)
        return ModelResult(output=request.output_schema.model_validate(output), usage=usage,
                           tool_calls=calls)


class Decision(BaseModel):
    approved: bool
    text: str


class Note(BaseModel):
    note: str
    score: float


class TransferArgs(BaseModel):
    account_id: str
    amount: str


class LookupArgs(BaseModel):
    query: str


class TextArgs(BaseModel):
    text: str


def usage(cost: float, prompt: int = 12, completion: int = 6) -> ModelUsage:
    return ModelUsage(prompt_tokens=prompt, completion_tokens=completion, cost_usd=cost)


AWKWARD = (
    "Café crème – naïve façade; 日本語テキスト; 中文; 한국어; emoji 😀🚀👍🏽 family 👨\u200d👩\u200d👧 "
    "clef 𝄞\nline2 \"double\" and 'single' quotes, back\\slash, tab\tend\r\nctrl \x1f DEL \x7f "
    "LS \u2028 PS \u2029 NBSP\u00a0 BOM \ufeff combining e\u0301 html <b>&amp;</b> slash / end"
)

# --- ledgers -----------------------------------------------------------------


async def chat_replay(path: Path) -> None:
    """Two chat runs through the full middleware stack; the second call replays."""
    model = FakeModel([
        ({"approved": True, "text": "Balance check passed."}, usage(0.01),
         (ToolCall(tool_name="submit_transfer", arguments_json='{"account_id":"acc_1","amount":"10"}'),)),
        ({"approved": False, "text": "second run"}, usage(0.02, 30, 7), ()),
    ])
    kernel = ArtanaKernel(store=SQLiteStore(str(path)), model_port=model,
                          middleware=[PIIScrubberMiddleware(), QuotaMiddleware(), CapabilityGuardMiddleware()])

    @kernel.tool(requires_capability="finance:write")
    async def submit_transfer(account_id: str, amount: str) -> str:
        return json.dumps({"status": "submitted", "account_id": account_id, "amount": amount})

    tenant = TenantContext(tenant_id="org_demo", capabilities=frozenset({"finance:write"}), budget_usd_limit=1.0)
    for run_id in ("chat_run_1", "chat_run_2"):
        await kernel.start_run(tenant=tenant, run_id=run_id)
        for _ in range(2):  # the second call replays from the log
            await kernel.step_model(run_id=run_id, tenant=tenant, model="gpt-4o-mini",
                                    input=ModelInput.from_prompt("Transfer 10 from acc_1. My email is user@example.com"),
                                    output_schema=Decision, step_key="decide")
    await kernel.step_tool(run_id="chat_run_1", tenant=tenant, tool_name="submit_transfer",
                           arguments=TransferArgs(account_id="acc_1", amount="10"), step_key="transfer")
    await kernel.step_tool(run_id="chat_run_1", tenant=tenant, tool_name="submit_transfer",
                           arguments=TransferArgs(account_id="acc_1", amount="10"), step_key="transfer")
    await kernel.close()


async def tool_outcomes(path: Path) -> None:
    """Every tool outcome, and an unknown outcome reconciled afterwards."""
    kernel = ArtanaKernel(store=SQLiteStore(str(path)), model_port=FakeModel([]))
    state = {"drop": True, "flaky": 0}

    @kernel.tool()
    async def lookup(query: str) -> str:
        return json.dumps({"query": query, "hits": 3})

    @kernel.tool()
    async def flaky(query: str) -> str:
        raise ToolTransientError("upstream timed out, try again")

    @kernel.tool()
    async def forbidden(query: str) -> str:
        raise ToolPermanentError("account closed")

    @kernel.tool()
    async def submit_transfer(account_id: str, amount: str, artana_context=None) -> ToolExecutionResult:  # noqa: ANN001
        if state["drop"]:
            state["drop"] = False
            raise ToolUnknownOutcomeError("simulated network drop after request submission")
        return ToolExecutionResult(outcome="success", result_json='{"status":"submitted"}',
                                   effect_id="effect_42", request_id=artana_context.request_event_id)

    tenant = TenantContext(tenant_id="org_live", budget_usd_limit=5.0)
    await kernel.start_run(tenant=tenant, run_id="run_tool_success")
    await kernel.step_tool(run_id="run_tool_success", tenant=tenant, tool_name="lookup",
                           arguments=LookupArgs(query="größe ü"))
    await kernel.step_tool(run_id="run_tool_success", tenant=tenant, tool_name="lookup",
                           arguments=LookupArgs(query="second"), step_key="lookup.2")
    await kernel.start_run(tenant=tenant, run_id="run_tool_errors")
    for name in ("flaky", "forbidden"):
        try:
            await kernel.step_tool(run_id="run_tool_errors", tenant=tenant, tool_name=name,
                                   arguments=LookupArgs(query="x"))
        except Exception:  # noqa: BLE001 - the failure is what is logged
            pass
    await kernel.start_run(tenant=tenant, run_id="run_tool_unknown_reconcile")
    args = TransferArgs(account_id="acc_9", amount="10.00")
    try:
        await kernel.step_tool(run_id="run_tool_unknown_reconcile", tenant=tenant,
                               tool_name="submit_transfer", arguments=args)
    except Exception:  # noqa: BLE001
        pass
    await kernel.reconcile_tool(run_id="run_tool_unknown_reconcile", tenant=tenant,
                                tool_name="submit_transfer", arguments=args)
    await kernel.close()


async def workflow(path: Path) -> None:
    """Workflows: one completes; one pauses, is resumed, then completes."""
    kernel = ArtanaKernel(store=SQLiteStore(str(path)), model_port=FakeModel([]))
    tenant = TenantContext(tenant_id="org_flow", budget_usd_limit=1.0)
    gate = {"open": False}

    async def flow(ctx):  # noqa: ANN001, ANN202
        a = await ctx.step(name="fetch", action=lambda: _value({"items": [1, 2.5, "ü"], "ok": True}),
                           serde=json_step_serde())
        b = await ctx.step(name="score", action=lambda: _value(Note(note="naïve ✓", score=1e-05)),
                           serde=pydantic_step_serde(Note))
        if not gate["open"]:
            await ctx.pause("needs human review", context=Note(note="check 漢字", score=0.0),
                            step_key="review")
        return {"a": a, "b": b.model_dump()}

    async def simple(ctx):  # noqa: ANN001, ANN202
        return await ctx.step(name="only", action=lambda: _value("done"), serde=json_step_serde())

    await kernel.run_workflow(run_id="workflow_complete", tenant=tenant, workflow=simple)
    await kernel.run_workflow(run_id="workflow_paused_resumed", tenant=tenant, workflow=flow)
    await kernel.resume(run_id="workflow_paused_resumed", tenant=tenant,
                        human_input=Note(note="approved by Zoë", score=100.0))
    gate["open"] = True
    await kernel.run_workflow(run_id="workflow_paused_resumed", tenant=tenant, workflow=flow)
    await kernel.close()


async def _value(v):  # noqa: ANN001, ANN202
    return v


async def pause_resume(path: Path) -> None:
    """Pause and resume outside workflows, with and without context and input."""
    kernel = ArtanaKernel(store=SQLiteStore(str(path)), model_port=FakeModel([]))
    tenant = TenantContext(tenant_id="org_pause", budget_usd_limit=1.0)
    await kernel.start_run(tenant=tenant, run_id="pause_run")
    await kernel.pause(run_id="pause_run", tenant=tenant, reason="approval needed",
                       context=Note(note="amount > limit", score=0.5), step_key="approve")
    await kernel.resume(run_id="pause_run", tenant=tenant, human_input=Note(note="ok", score=1.0))
    await kernel.pause(run_id="pause_run", tenant=tenant, reason="second pause")
    await kernel.resume(run_id="pause_run", tenant=tenant)
    await kernel.close()


async def unicode_text(path: Path) -> None:
    """Non-ASCII run and tenant ids, and a prompt with every escaping rule."""
    model = FakeModel([
        ({"approved": True, "text": AWKWARD}, usage(0.001),
         (ToolCall(tool_name="translate", arguments_json='{"text":"ünï 😀"}'),)),
    ])
    kernel = ArtanaKernel(store=SQLiteStore(str(path)), model_port=model)

    @kernel.tool()
    async def translate(text: str) -> str:
        return json.dumps({"text": text.upper()}, ensure_ascii=False)

    tenant = TenantContext(tenant_id="tenant_ümlaut_東京", budget_usd_limit=1.0)
    run_id = "run_ünïcødé_漢字_🚀"
    await kernel.start_run(tenant=tenant, run_id=run_id)
    await kernel.step_model(run_id=run_id, tenant=tenant, model="fake-model",
                            input=ModelInput.from_messages([ChatMessage(role="system", content="Translate."),
                                                            ChatMessage(role="user", content=AWKWARD)]),
                            output_schema=Decision, step_key="uni.1")
    await kernel.step_tool(run_id=run_id, tenant=tenant, tool_name="translate",
                           arguments=TextArgs(text="ünï 😀"))
    await kernel.pause(run_id=run_id, tenant=tenant, reason=AWKWARD)
    await kernel.close()


COSTS = [0.01, 1e-05, 0.1 + 0.2, 123456789.125, 0.0, 0, 1e-07, 2.5e-08, 1 / 3, 100.0, 1e16,
         12345678901234567890.0, 1e22, 5e-324, 0.000123]


async def cost_floats(path: Path) -> None:
    """Model costs written with Python's float repr, including awkward ones."""
    model = FakeModel([({"approved": True, "text": f"cost {c!r}"}, usage(c, 1_000_000, 0), ())
                       for c in COSTS])
    kernel = ArtanaKernel(store=SQLiteStore(str(path)), model_port=model)
    tenant = TenantContext(tenant_id="org_costs", budget_usd_limit=1e300)
    await kernel.start_run(tenant=tenant, run_id="cost_run")
    for i, _ in enumerate(COSTS):
        await kernel.step_model(run_id="cost_run", tenant=tenant, model="fake-model",
                                input=ModelInput.from_prompt(f"price {i}"), output_schema=Decision, step_key=f"cost.{i}")
    await kernel.close()


FIXED_TIMES = [
    datetime(2024, 2, 29, 23, 59, 59, 0, tzinfo=timezone.utc),
    datetime(2024, 3, 1, 0, 0, 0, 120000, tzinfo=timezone.utc),
    datetime(2024, 3, 1, 0, 0, 0, 7, tzinfo=timezone.utc),
    datetime(2024, 3, 1, 0, 0, 1, 999999, tzinfo=timezone.utc),
    datetime(2030, 1, 1, 0, 0, 0, 0, tzinfo=timezone.utc),
    datetime(2030, 1, 1, 0, 0, 0, 500000, tzinfo=timezone.utc),
    datetime(1999, 12, 31, 23, 59, 59, 0, tzinfo=timezone.utc),
    datetime(2030, 1, 2, 3, 4, 5, 60, tzinfo=timezone.utc),
]


async def timestamps_fixed_clock(path: Path) -> None:
    """A clock where microsecond 0 occurs, and one that goes backwards."""
    CLOCK.reset(FIXED_TIMES[0], fixed=FIXED_TIMES)
    kernel = ArtanaKernel(store=SQLiteStore(str(path)), model_port=FakeModel([]))
    tenant = TenantContext(tenant_id="org_clock", budget_usd_limit=1.0)
    await kernel.start_run(tenant=tenant, run_id="fixed_clock_run")
    for i in range(len(FIXED_TIMES) - 1):
        await kernel.pause(run_id="fixed_clock_run", tenant=tenant, reason=f"tick {i}")
    await kernel.close()
    CLOCK.reset(datetime(2026, 11, 25, 18, 0, 0, 654321, tzinfo=timezone.utc))


def tamper(src: Path, dst: Path, run_id: str, seq: int) -> None:
    """Copy src to dst and change one character inside one row's output_json."""
    shutil.copyfile(src, dst)
    con = sqlite3.connect(dst)
    (payload,) = con.execute("SELECT payload_json FROM kernel_events WHERE run_id = ? AND seq = ?",
                             (run_id, seq)).fetchone()
    changed = payload.replace("passed", "pas5ed", 1)
    assert changed != payload, "nothing to tamper with"
    con.execute("UPDATE kernel_events SET payload_json = ? WHERE run_id = ? AND seq = ?",
                (changed, run_id, seq))
    con.commit()
    con.close()


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    ledgers = [chat_replay, tool_outcomes, workflow, pause_resume, unicode_text, cost_floats,
               timestamps_fixed_clock]
    expected: dict = {"ledgers": {}}
    for gen in ledgers:
        path = out / f"{gen.__name__}.db"
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        await gen(path)
        store = SQLiteStore(str(path))
        runs = {}
        con = sqlite3.connect(path)
        for (run_id,) in con.execute("SELECT DISTINCT run_id FROM kernel_events ORDER BY run_id"):
            events = await store.get_events_for_run(run_id)
            assert await store.verify_run_chain(run_id), (path, run_id)
            runs[run_id] = {"events": len(events), "tenant_id": events[0].tenant_id,
                            "last_hash": events[-1].event_hash,
                            "types": [e.event_type.value for e in events]}
        con.close()
        await store.close()
        expected["ledgers"][path.name] = {"doc": gen.__doc__, "runs": runs, "verifies": True}

    tampered = out / "tampered_chat_replay.db"
    tamper(out / "chat_replay.db", tampered, "chat_run_1", 3)
    store = SQLiteStore(str(tampered))
    ok = {r: await store.verify_run_chain(r) for r in ("chat_run_1", "chat_run_2")}
    await store.close()
    assert ok == {"chat_run_1": False, "chat_run_2": True}, ok
    expected["ledgers"][tampered.name] = {
        "doc": "chat_replay.db with one character of chat_run_1 seq 3's output_json changed.",
        "verifies": False, "tampered": {"run_id": "chat_run_1", "seq": 3},
        "python_verify_run_chain": ok}
    (out / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: gen_seed_ledgers.py OUTDIR")
    try:
        asyncio.run(main(Path(sys.argv[1])))
    except BaseException:
        import os
        import traceback

        traceback.print_exc()
        os._exit(1)  # aiosqlite's worker threads would keep a failed run alive

"""Write a run with the Python original of artana and print its rows.

usage: python3 kernel_seed_run.py DB_PATH

Prints one JSON object per kernel_events row of run "seed_run", in seq order.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import sys

from pydantic import BaseModel

from artana import ArtanaKernel, TenantContext
from artana.kernel import ModelInput, ToolExecutionFailedError
from artana.ports.model import ModelRequest, ModelResult, ModelUsage, ToolCall
from artana.store import SQLiteStore


class Decision(BaseModel):
    approved: bool
    reason: str


class TransferArgs(BaseModel):
    account_id: str
    amount: str


class FakeModel:
    async def complete(self, request: ModelRequest) -> ModelResult:
        output = request.output_schema.model_validate(
            {"approved": True, "reason": "ok: " + request.prompt}
        )
        return ModelResult(
            output=output,
            usage=ModelUsage(prompt_tokens=12, completion_tokens=6, cost_usd=0.01),
            tool_calls=(
                ToolCall(tool_name="submit_transfer", arguments_json='{"account_id":"acc_1","amount":"10.00"}'),
            ),
        )


async def main(db: str) -> None:
    store = SQLiteStore(db)
    kernel = ArtanaKernel(store=store, model_port=FakeModel())
    attempts = [0]

    @kernel.tool(requires_capability="finance:write")
    async def submit_transfer(account_id: str, amount: str) -> str:
        attempts[0] += 1
        if attempts[0] == 1:
            raise RuntimeError("simulated network drop after request submission")
        return json.dumps({"status": "submitted", "account_id": account_id, "amount": amount})

    tenant = TenantContext(
        tenant_id="org_seed", capabilities=frozenset({"finance:write"}), budget_usd_limit=1.0
    )
    run = await kernel.start_run(tenant=tenant, run_id="seed_run")
    await kernel.step_model(run_id=run.run_id, tenant=tenant, model="fake-model",
                            input=ModelInput.from_prompt("Approve transfer, caf\u00e9 \U0001F680"),
                            output_schema=Decision, step_key="decision.v1")
    await kernel.step_model(run_id=run.run_id, tenant=tenant, model="fake-model",
                            input=ModelInput.from_prompt("Second question"), output_schema=Decision)
    args = TransferArgs(account_id="acc_1", amount="10.00")
    try:
        await kernel.step_tool(run_id=run.run_id, tenant=tenant, tool_name="submit_transfer",
                               arguments=args, step_key="transfer.acc_1.v1")
    except ToolExecutionFailedError:
        pass
    await kernel.reconcile_tool(run_id=run.run_id, tenant=tenant, tool_name="submit_transfer",
                                arguments=args, step_key="transfer.acc_1.v1")
    await kernel.step_tool(run_id=run.run_id, tenant=tenant, tool_name="submit_transfer",
                           arguments=TransferArgs(account_id="acc_2", amount="5"))
    await kernel.close()

    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    for row in con.execute("SELECT * FROM kernel_events WHERE run_id = ? ORDER BY seq", ("seed_run",)):
        print(json.dumps(dict(row)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

// Commands about the extension itself: its log and its sidecar.
import type { StsContext } from "../context";
import type { Args, CommandResult } from "./ui";

export async function showLog(ctx: StsContext, _args: Args | undefined): Promise<CommandResult> {
  ctx.output.show();
  return undefined;
}

/** Also the way out after the supervisor stopped restarting a crashing sidecar: restart() resets its budget. */
export async function restartSidecar(ctx: StsContext, _args: Args | undefined): Promise<CommandResult> {
  await ctx.supervisor.restart();
  await ctx.loadSessions();
  return `awsflow-sts sidecar restarted (pid ${ctx.supervisor.pid ?? "unknown"})`;
}

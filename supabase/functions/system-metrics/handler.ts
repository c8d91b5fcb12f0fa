// system-metrics: the admin dashboard's numbers, as the calling user. system_metrics itself
// refuses anyone but an admin (42501 -> 403); it is STABLE, so it runs as PostgREST's GET
// call does, in a read-only transaction.
import type { RpcClient } from "../_shared/rpc.ts";
import { bearer, corsHeaders, fail, fromRpcError, json, jwtRole } from "../_shared/http.ts";

export async function handleSystemMetrics(
  req: Request,
  clientFor: (authorization: string) => RpcClient,
): Promise<Response> {
  if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: corsHeaders });
  if (req.method !== "GET") return fail(405, "method_not_allowed", "use GET");
  const auth = bearer(req);
  if ("answer" in auth) return auth.answer;
  const params = new URL(req.url).searchParams;
  const unknown = [...params.keys()].filter((k) => k !== "time_window");
  if (unknown.length > 0) {
    return fail(400, "unknown_field", `unknown parameter ${unknown.join(", ")}`,
      "allowed: time_window (an interval, e.g. '1 hour')");
  }
  const window = params.get("time_window");
  const { data, error } = await clientFor(auth.authorization).rpc(
    "system_metrics",
    window === null ? {} : { time_window: window },
    { get: true },
  );
  if (error) return fromRpcError(error, jwtRole(auth.authorization) !== "authenticated");
  return json(200, data);
}

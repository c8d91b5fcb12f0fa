// HTTP answers of the edge functions, and the one mapping from an error code to a status.
import type { RpcError } from "./rpc.ts";

export const corsHeaders = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers": "authorization, x-client-info, apikey, content-type",
  "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
  // a browser's fetch may read Retry-After (the 429 of queue_job's rate of new jobs)
  "Access-Control-Expose-Headers": "Retry-After",
};

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...corsHeaders, "Content-Type": "application/json", ...headers },
  });
}

/** An error the function itself detects (code is one of the documented edge codes). */
export function fail(status: number, code: string, message: string, hint?: string): Response {
  return json(status, { code, message, details: null, hint: hint ?? null });
}

/** PostgREST's own errors (PGRSTnnn) that are not 400: their status. */
const PGRST_STATUS: Record<string, number> = {
  PGRST000: 503, PGRST001: 503, PGRST002: 503, PGRST003: 504,
  PGRST103: 416, PGRST105: 405, PGRST106: 406, PGRST107: 415, PGRST111: 500, PGRST112: 500,
  PGRST113: 406, PGRST116: 406, PGRST117: 405,
  PGRST201: 300, PGRST202: 404, PGRST203: 300, PGRST205: 404,
  PGRST300: 500, PGRST301: 401, PGRST302: 401, PGRST303: 401,
};

/** SQLSTATE classes (two characters) PostgREST answers with a 5xx status; all others are 4xx. */
const SERVER_CLASSES: Record<string, number> = {
  "08": 503, "09": 500, "25": 500, "2D": 500, "38": 500, "39": 500, "3B": 500, "40": 500,
  "53": 503, "54": 500, "55": 500, "57": 500, "58": 500, "F0": 500, "HV": 500, "P0": 500,
  "XX": 500,
};

/**
 * The HTTP status for an error code, by PostgREST's rules (its Error.hs), so the app sees the
 * same status through an edge function as through supabase.rpc: PTnnn -> nnn; 42501 -> 401
 * for an anonymous caller, else 403; 23503/23505 -> 409; 25006 -> 405; 42883 and 42P01 ->
 * 404; P0001 -> 400; 0L/0P/28 -> 403; the server classes above -> 5xx (57P01 503, 53400 500,
 * 42P17 500, 21000 500 unless pg-safeupdate's "requires a WHERE clause"); PostgREST's own
 * PGRSTnnn as it sends them; every other code, like every client error, -> 400.
 */
export function statusFor(code: string, anonymous: boolean, message = ""): number {
  const pt = /^PT([1-5][0-9][0-9])$/.exec(code);
  if (pt) return Number(pt[1]);
  if (code.startsWith("PGRST")) return PGRST_STATUS[code] ?? 400;
  if (code === "42501") return anonymous ? 401 : 403;
  if (code === "23505" || code === "23503") return 409;
  if (code === "25006") return 405;
  if (code === "42883" || code === "42P01") return 404;
  if (code === "P0001") return 400;
  if (code === "57P01") return 503;
  if (code === "53400" || code === "42P17") return 500;
  if (code === "21000") return message.endsWith("requires a WHERE clause") ? 400 : 500;
  const cls = code.slice(0, 2);
  if (cls === "0L" || cls === "0P" || cls === "28") return 403;
  return SERVER_CLASSES[cls] ?? 400;
}

/** Retry-After for a 429 whose detail names the wait (queue_job's rate of new jobs:
 *  `retry_after_seconds=N`); none for the queued cap, which no wait is known to end. */
function retryAfter(error: RpcError): Record<string, string> {
  const m = /(?:^|\s)retry_after_seconds=([0-9]{1,9})(?:\s|$)/.exec(error.details ?? "");
  return m ? { "Retry-After": m[1] } : {};
}

/** A database error as the app's answer: the status above and PostgREST's body (4xx), or an
 *  opaque 500 that reveals nothing of the server. */
export function fromRpcError(error: RpcError, anonymous: boolean): Response {
  const status = statusFor(error.code, anonymous, error.message);
  if (status >= 500) {
    console.error("rpc failed", error);
    return fail(500, "internal", "internal error");
  }
  return json(status, error, status === 429 ? retryAfter(error) : {});
}

/** The deepest request body an RPC can take: job-callback's body, its assets, an asset and
 *  32 levels of metadata (the database's JSON rule, jobs_private.json_violation). */
export const MAX_BODY_DEPTH = 35;

/** Why a parsed body cannot be passed on, or null. JSON.parse reads any depth and turns a
 *  number past +-1.8e308 into Infinity, which JSON.stringify would send on as null (a silent
 *  change); a body nested past what any RPC takes would reach PostgreSQL's JSON parser, whose
 *  stack runs out at 12,000 to 16,000 levels (54001: HTTP 500). Iterative: any depth is safe here. */
export function unreadable(body: unknown): string | null {
  const stack: [unknown, number][] = [[body, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === "number" && !Number.isFinite(value)) {
      return "the request body holds a number JSON.parse reads as infinite (beyond 1.8e308)";
    }
    if (value === null || typeof value !== "object") continue;
    if (depth + 1 > MAX_BODY_DEPTH) {
      return `the request body is nested deeper than ${MAX_BODY_DEPTH} levels`;
    }
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return null;
}

/** The request body as a JSON object, or the 400 answer to give. */
export async function jsonObject(
  req: Request,
): Promise<{ body: Record<string, unknown> } | { answer: Response }> {
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return { answer: fail(400, "invalid_json", "the request body is not JSON") };
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return { answer: fail(400, "invalid_json", "the request body must be a JSON object") };
  }
  const problem = unreadable(body);
  if (problem) {
    return {
      answer: fail(400, "invalid_json", problem,
        "nest metadata at most 32 levels; keep numbers between -1e308 and 1e308"),
    };
  }
  return { body: body as Record<string, unknown> };
}

/** 400 for a field the function does not take (instead of PostgREST's 404 PGRST202). */
export function unknownFields(
  body: Record<string, unknown>,
  allowed: readonly string[],
): Response | null {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length === 0) return null;
  return fail(
    400,
    "unknown_field",
    `unknown field ${unknown.map((k) => JSON.stringify(k)).join(", ")}`,
    `allowed: ${allowed.join(", ")}`,
  );
}

/** The JWT's role claim, read (not verified: PostgREST verifies) to tell 401 from 403. */
export function jwtRole(authorization: string): string | null {
  const token = authorization.replace(/^Bearer\s+/i, "");
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const text = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(text);
    return typeof claims?.role === "string" ? claims.role : null;
  } catch {
    return null;
  }
}

/** The caller's `Authorization: Bearer <jwt>` header, or the 401 answer to give. */
export function bearer(req: Request): { authorization: string } | { answer: Response } {
  const authorization = req.headers.get("Authorization") ?? "";
  if (!/^Bearer\s+\S+\.\S+\.\S+$/i.test(authorization)) {
    return {
      answer: fail(401, "no_authorization", "sign in: the request needs the user's JWT",
        "send Authorization: Bearer <access token>"),
    };
  }
  return { authorization };
}

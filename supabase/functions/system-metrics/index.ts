import { asCaller } from "../_shared/supabase.ts";
import { handleSystemMetrics } from "./handler.ts";

Deno.serve((req) => handleSystemMetrics(req, asCaller));

import { asCaller } from "../_shared/supabase.ts";
import { handleQueueJob } from "./handler.ts";

Deno.serve((req) => handleQueueJob(req, asCaller));

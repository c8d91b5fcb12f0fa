// The jobsdb client for apps: exact answer types, typed calls, and watchJobs (live job status
// from the user's private broadcast topic, reconciled with job_changes_since). The React hooks
// are in ./react.ts (the only file that imports React).
export * from "./types.ts";
export * from "./client.ts";
export * from "./watch.ts";

// Waiting for a webhook: Stripe tells the API, not the browser, that a purchase went through,
// so the page Checkout returns to asks until it sees the purchase applied, or gives up kindly.

export const POLL_INTERVAL_MS = 1000;
export const POLL_TIMEOUT_MS = 60_000;

export type PollState = "waiting" | "done" | "timed_out";

/** Where a poll stands after `elapsedMs`, given whether the awaited change is seen. */
export function pollState(seen: boolean, elapsedMs: number, timeoutMs = POLL_TIMEOUT_MS): PollState {
  if (seen) return "done";
  return elapsedMs >= timeoutMs ? "timed_out" : "waiting";
}

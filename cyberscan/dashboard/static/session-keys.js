// sessionStorage keys shared by the login page and the dashboard: the session ended (set
// by api.js, read by login.js), and the action a dialog was open for at that moment (kept
// by actions.js, said by login.js, reopened after login). Public, like login.js, which
// loads it; it holds no data.
export const SESSION_ENDED = "cyberscan-admin:session-ended";
export const PENDING_ACTION = "cyberscan-admin:pending-action";

// What the page knows right now, shared by the modules that draw it.

const MUTED_KEY = "cyberscan.muted";

export const state = {
  me: null, // the user object from /api/me
  peer: null, // the username of the open conversation
  online: new Set(), // contacts online now (online_users / user_joined / user_left)
  conversations: [], // [{username, last_message, unread_count, online}]
  blocked: new Set(), // usernames I have blocked
  muted: new Set(), // usernames I have muted (the contract has no list endpoint)
  typing: new Map(), // username -> timer of its typing indicator
};

export function loadMuted() {
  try {
    const names = JSON.parse(localStorage.getItem(`${MUTED_KEY}.${state.me.username}`) || "[]");
    state.muted = new Set(Array.isArray(names) ? names : []);
  } catch {
    state.muted = new Set();
  }
}

export function saveMuted() {
  localStorage.setItem(`${MUTED_KEY}.${state.me.username}`, JSON.stringify([...state.muted]));
}

export function sameName(a, b) {
  return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

// The other participant of a message, seen from me.
export function peerOf(message) {
  return sameName(message.sender, state.me.username) ? message.receiver : message.sender;
}

export function isMine(message) {
  return sameName(message.sender, state.me.username);
}

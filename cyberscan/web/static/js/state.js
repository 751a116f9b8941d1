// What the page knows right now, shared by the modules that draw it.

export const state = {
  me: null, // the user object from /api/me
  peer: null, // the username of the open conversation
  online: new Set(), // contacts online now (online_users / user_joined / user_left)
  conversations: [], // [{username, last_message, unread_count, online}]
  blocked: new Set(), // usernames I have blocked
  muted: new Set(), // usernames I have muted
  typing: new Map(), // username -> timer of its typing indicator
};

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

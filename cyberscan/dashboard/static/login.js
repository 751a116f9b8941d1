// ES module: the login form posts /admin/login as JSON; the server answers with an
// HttpOnly cookie.
import { PENDING_ACTION, SESSION_ENDED } from "./session-keys.js";

var form = document.getElementById("login-form");
var error = document.getElementById("login-error");
var submit = document.getElementById("login-submit");

// Sent here because the session ended (api.js left a word in sessionStorage): say so,
// and what was left unfinished (kept until the same admin is back on the dashboard).
function sessionNotice() {
  var kept = null;
  try {
    if (!sessionStorage.getItem(SESSION_ENDED)) return;
    kept = JSON.parse(sessionStorage.getItem(PENDING_ACTION) || "null");
  } catch (err) {
    return;
  }
  var text = "Your session ended; log in again.";
  if (kept && kept.verb) {
    text += " You were about to " + kept.verb + (kept.username ? " " + kept.username : "") +
      (kept.reason ? "; your reason is kept" : "") + ": it was not done, and it is back after you log in as " + kept.admin + ".";
  }
  var notice = document.getElementById("login-notice");
  notice.textContent = text;
  notice.hidden = false;
}
sessionNotice();

function showError(text) {
  error.textContent = text;
  error.hidden = false;
}

form.addEventListener("submit", function (event) {
  event.preventDefault();
  error.hidden = true;
  var name = form.elements.login.value.trim();
  var password = form.elements.password.value;
  if (!name || !password) {
    showError("Enter your username or email and your password.");
    return;
  }
  var body = { password: password };
  body[name.indexOf("@") >= 0 ? "email" : "username"] = name;
  submit.disabled = true;
  fetch("/admin/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  })
    .then(function (response) {
      if (response.ok) {
        window.location.assign("/admin");
        return null;
      }
      return response.json().then(
        function (data) {
          var text = (data && data.message) || "Login failed.";
          if (response.status === 429) {
            text = "Too many attempts. Try again in a few minutes.";
          }
          showError(text);
        },
        function () {
          showError("Login failed (" + response.status + ").");
        }
      );
    })
    .catch(function () {
      showError("The server cannot be reached.");
    })
    .finally(function () {
      submit.disabled = false;
    });
});

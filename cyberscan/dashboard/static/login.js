// ES module: the login form posts /admin/login as JSON; the server answers with an
// HttpOnly cookie.
var form = document.getElementById("login-form");
var error = document.getElementById("login-error");
var submit = document.getElementById("login-submit");

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

// Copy the browser bundles the package serves into its static/vendor/ folders.
// Run after `npm ci`: `npm run vendor`. The copies are committed; nothing is built at runtime.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const pkgRoot = path.join(__dirname, "..", "cyberscan");
const bundles = [
  {
    pkg: "socket.io-client",
    target: "dashboard/static/vendor",
    files: [
      ["dist/socket.io.min.js", "socket.io.min.js"],
      ["LICENSE", "socket.io-client.LICENSE"],
    ],
  },
  {
    // Swagger UI for /api/docs: the plain bundle (no standalone preset, no initializer:
    // cyberscan/apidocs/static/docs.js starts it, so the page needs no inline script).
    pkg: "swagger-ui-dist",
    target: "apidocs/static/vendor",
    files: [
      ["swagger-ui-bundle.js", "swagger-ui-bundle.js"],
      ["swagger-ui.css", "swagger-ui.css"],
      ["LICENSE", "swagger-ui.LICENSE"],
      ["NOTICE", "swagger-ui.NOTICE"],
    ],
  },
];

for (const { pkg, target, files } of bundles) {
  const dir = path.join(pkgRoot, target);
  fs.mkdirSync(dir, { recursive: true });
  const root = path.dirname(require.resolve(`${pkg}/package.json`));
  const { version, license } = require(`${pkg}/package.json`);
  for (const [from, to] of files) {
    const data = fs.readFileSync(path.join(root, from));
    fs.writeFileSync(path.join(dir, to), data);
    const sha = crypto.createHash("sha256").update(data).digest("hex");
    console.log(`${pkg}@${version} (${license}) ${from} -> ${target}/${to} sha256=${sha}`);
  }
}

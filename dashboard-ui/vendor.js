// Copy the browser bundles the dashboard uses into cyberscan/dashboard/static/vendor/.
// Run after `npm ci`: `npm run vendor`. The copies are committed; nothing is built at runtime.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const target = path.join(__dirname, "..", "cyberscan", "dashboard", "static", "vendor");
const bundles = [
  {
    pkg: "socket.io-client",
    files: [
      ["dist/socket.io.min.js", "socket.io.min.js"],
      ["LICENSE", "socket.io-client.LICENSE"],
    ],
  },
];

fs.mkdirSync(target, { recursive: true });
for (const { pkg, files } of bundles) {
  const root = path.dirname(require.resolve(`${pkg}/package.json`));
  const { version, license } = require(`${pkg}/package.json`);
  for (const [from, to] of files) {
    const data = fs.readFileSync(path.join(root, from));
    fs.writeFileSync(path.join(target, to), data);
    const sha = crypto.createHash("sha256").update(data).digest("hex");
    console.log(`${pkg}@${version} (${license}) ${from} -> static/vendor/${to} sha256=${sha}`);
  }
}

// Start Swagger UI on the page's OpenAPI document. No online validator (validatorUrl
// null): the page talks to this server only.
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    docExpansion: "list",
    validatorUrl: null,
  });
})();

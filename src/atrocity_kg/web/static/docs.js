/*
 * The /docs page: Swagger UI, served by this server from node_modules, reading the OpenAPI
 * document named by its holder element. Started from this file rather than an inline script so
 * that the content security policy can refuse every inline script.
 */
(function () {
  "use strict";

  var holder = document.getElementById("api-explorer");
  if (!holder) {
    return;
  }
  var SwaggerUIBundle = window.SwaggerUIBundle;
  if (typeof SwaggerUIBundle !== "function") {
    holder.textContent = "The explorer's script did not load: run `npm ci` in the checkout.";
    return;
  }
  SwaggerUIBundle({
    url: holder.getAttribute("data-openapi-url"),
    domNode: holder,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // The public validator badge would ask a server elsewhere about this document.
    validatorUrl: null,
  });
})();

/*
 * The home page's SPARQL editor: YASGUI, served by this server from node_modules, sending every
 * query to this server's /sparql. Everything that would reach the internet is switched off:
 * prefix.cc (the project's prefixes are offered instead), Linked Open Vocabularies completion,
 * the public endpoint catalogue and the CORS proxy check.
 */
(function () {
  "use strict";

  var holder = document.getElementById("yasgui");
  var configElement = document.getElementById("editor-config");
  if (!holder || !configElement) {
    return;
  }
  var Yasgui = window.Yasgui;
  if (typeof Yasgui !== "function") {
    holder.textContent = "The editor's script did not load: run `npm ci` in the checkout.";
    return;
  }
  var config = JSON.parse(configElement.textContent);
  // A link from a catalogue question's page brings its query in the fragment (#query=...),
  // which YASGUI reads and then clears: remember it, to show the editor rather than the top.
  var broughtQuery = /(^#|&)query=/.test(window.location.hash);
  var endpoint = new URL(config.endpoint, window.location.href).href;

  var prefixLines = Object.keys(config.prefixes).sort().map(function (prefix) {
    return prefix + ": <" + config.prefixes[prefix] + ">";
  });
  Yasgui.Yasqe.forkAutocompleter(
    "prefixes",
    {
      name: "projectPrefixes",
      persistenceId: null,
      get: function () {
        return Promise.resolve(prefixLines);
      },
    },
    false
  );
  // Set on the defaults, not in the config below: YASGUI merges arrays index by index.
  // The class and property completers ask lov.linkeddata.es, so they stay off.
  Yasgui.defaults.yasqe.autocompleters = ["projectPrefixes", "variables"];

  // Show the endpoint's own reason for a refused query, whether it comes as text or as
  // FastAPI's JSON {"detail": "..."}, in place of YASGUI's raw dump.
  var showReason = function (error) {
    var reason = error && error.text;
    if (typeof reason !== "string" || reason === "") {
      return undefined;
    }
    try {
      var parsed = JSON.parse(reason);
      if (parsed && typeof parsed.detail === "string") {
        reason = parsed.detail;
      }
    } catch (notJson) {
      // plain text: shown as it is
    }
    var message = document.createElement("pre");
    message.className = "query-error";
    message.textContent = reason;
    return message;
  };
  Yasgui.Yasr.defaults.errorRenderers = [showReason].concat(
    Yasgui.Yasr.defaults.errorRenderers || []
  );

  var yasgui = new Yasgui(holder, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    endpointCatalogueOptions: {
      getData: function () {
        return [{ endpoint: endpoint }];
      },
    },
    copyEndpointOnNewTab: true,
    corsProxy: undefined,
    persistenceId: null,
    autofocus: false,
    autoAddOnInit: false,
    // A shared link brings its query, never its endpoint.
    populateFromUrl: function (tab) {
      tab.requestConfig.endpoint = endpoint;
      return tab;
    },
    yasqe: {
      value: config.initialQuery,
      prefixCcApi: null,
      collapsePrefixesOnLoad: true,
      editorHeight: "320px",
    },
    yasr: { prefixes: config.prefixes, persistenceId: null },
  });

  // The first tab shows plain values (no datatypes, no row numbers); "Simple view" toggles it.
  if (!yasgui.getTab()) {
    yasgui.addTab(true, {
      yasr: { settings: { selectedPlugin: "table", pluginsConfig: { table: { compact: true } } } },
    });
  }

  var examples = {};
  config.examples.forEach(function (example) {
    examples[example.name] = example;
  });
  var select = document.getElementById("examples");
  var picker = document.getElementById("examples-picker");
  if (picker) {
    picker.hidden = false;
  }
  if (select) {
    select.addEventListener("change", function () {
      var example = examples[select.value];
      var tab = yasgui.getTab();
      if (!example || !tab) {
        return;
      }
      tab.setQuery(example.query);
      tab.setName(example.name);
    });
  }
  if (broughtQuery) {
    // YASGUI clears the fragment once it has read it, which later takes the page back to its
    // top: show the editor after that, and once the page has loaded.
    var show = function () {
      holder.scrollIntoView();
    };
    window.addEventListener("hashchange", show, { once: true });
    window.addEventListener("load", show, { once: true });
    show();
  }
  window.atrocityKgEditor = yasgui;
})();

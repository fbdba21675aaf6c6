// Draw every chart of the page with vega-embed (inlined above); a chart that fails keeps its table of numbers.
(function () {
  "use strict";
  var charts = document.querySelectorAll("[data-spec]");
  Array.prototype.forEach.call(charts, function (container) {
    var source = document.getElementById(container.getAttribute("data-spec"));
    var spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (error) {
      container.setAttribute("data-rendered", "error");
      console.error("chart " + container.id + ": unreadable spec", error);
      return;
    }
    window.vegaEmbed(container, spec, { actions: false, renderer: "svg" }).then(
      function () { container.setAttribute("data-rendered", "true"); },
      function (error) {
        container.setAttribute("data-rendered", "error");
        console.error("chart " + container.id + " could not be drawn", error);
      }
    );
  });
})();

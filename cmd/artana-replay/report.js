(function () {
  "use strict";
  // Open the step an anchor names (and the page of steps around it).
  function reveal(id) {
    var el = id && document.getElementById(id);
    if (!el) return null;
    for (var p = el; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") p.open = true;
    }
    return el;
  }
  function go() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = reveal(id);
    if (el) el.scrollIntoView({block: "center"});
  }
  var first = document.getElementById("first-divergence");
  if (!location.hash && first) {
    location.hash = "#first-divergence";
  }
  go();
  window.addEventListener("hashchange", go);
  var tools = document.getElementById("tools");
  if (tools) {
    var all = function (open) {
      var ds = document.querySelectorAll("details.step");
      for (var i = 0; i < ds.length; i++) ds[i].open = open;
    };
    var mk = function (text, fn) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.addEventListener("click", fn);
      tools.appendChild(b);
    };
    mk("Expand all", function () { all(true); });
    mk("Collapse all", function () { all(false); });
  }
})();

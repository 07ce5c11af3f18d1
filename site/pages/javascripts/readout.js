// Interactive figures: pointing at a cell writes what it holds on the line under the figure (.atlas-readout),
// so a value can be read without waiting for a tooltip, with a keyboard (focus) as well as a mouse.
// - Heatmaps and the matrix: each cell is a link carrying its words in data-readout.
// - Attention maps: one image of weights; the SVG carries the tokens (data-tokens), the first token's position
//   (data-start) and the weights (data-weights, two hex digits each, row by row, in steps of 1/data-levels).
(function () {
  function readoutOf(element) {
    var figure = element.closest("figure");
    return figure && figure.querySelector(".atlas-readout");
  }

  function showCell(event) {
    var cell = event.target.closest && event.target.closest("[data-readout]");
    var readout = cell && readoutOf(cell);
    if (readout) readout.textContent = cell.getAttribute("data-readout");
  }

  function showWeight(event) {
    var image = event.target.closest && event.target.closest(".atlas-weights");
    if (!image) return;
    var map = image.closest("svg");
    var tokens = JSON.parse(map.getAttribute("data-tokens"));
    var start = Number(map.getAttribute("data-start"));
    var box = image.getBoundingClientRect();
    var n = tokens.length;
    var key = Math.min(n - 1, Math.floor(((event.clientX - box.left) / box.width) * n));
    var query = Math.min(n - 1, Math.floor(((event.clientY - box.top) / box.height) * n));
    var readout = readoutOf(map);
    if (!readout || key < 0 || query < 0) return;
    var where = tokens[query] + " (" + (start + query) + ") → " + tokens[key] + " (" + (start + key) + ")";
    if (key > query) {
      readout.textContent = where + ": later token, not visible to the query";
      return;
    }
    var at = 2 * (query * n + key);
    var weight = parseInt(map.getAttribute("data-weights").slice(at, at + 2), 16) / Number(map.getAttribute("data-levels"));
    readout.textContent = where + ": " + weight.toFixed(2);
  }

  document.addEventListener("mouseover", showCell);
  document.addEventListener("focusin", showCell);
  document.addEventListener("mousemove", showWeight);
})();

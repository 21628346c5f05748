// 巡回経路の地図: the stops in order as a line from the post and back, numbered markers.
// Works with no tiles (closed police networks): the line and markers are drawn on a blank
// map, with a scale bar; a tile URL is used only when the deployment sets JUNKAI_MAP_TILES.
(function () {
  "use strict";
  var element = document.getElementById("route-map");
  var source = document.getElementById("route-data");
  if (!element || !source || typeof L === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  // Labels carry addresses as typed (by officers, or imported): text, never markup, since
  // Leaflet puts a tooltip's string into the page as HTML.
  function escapeHTML(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  var map = L.map(element, { zoomSnap: 0.25, attributionControl: Boolean(data.tiles) });
  if (data.tiles) {
    L.tileLayer(data.tiles, { maxZoom: 18, attribution: escapeHTML(data.attribution) }).addTo(map);
  } else {
    element.classList.add("no-tiles");
  }
  L.control.scale({ imperial: false }).addTo(map);
  var start = L.latLng(data.start[0], data.start[1]);
  var line = [start];
  data.stops.forEach(function (stop) {
    line.push(L.latLng(stop.lat, stop.lon));
  });
  line.push(start);
  L.polyline(line, { color: "#1c4f9e", weight: 4, opacity: 0.85 }).addTo(map);
  L.marker(start, {
    icon: L.divIcon({ className: "route-depot", html: "発", iconSize: [32, 32] }),
    title: data.startLabel,
    zIndexOffset: 1000,
    keyboard: false,
  }).addTo(map);
  data.stops.forEach(function (stop) {
    L.marker([stop.lat, stop.lon], {
      icon: L.divIcon({ className: "route-stop" + (stop.done ? " done" : ""), html: stop.done ? "✓" : String(stop.n), iconSize: [32, 32] }),
      title: stop.label,
      keyboard: false,
    })
      .bindTooltip(escapeHTML(stop.label))
      .addTo(map);
  });
  map.fitBounds(L.latLngBounds(line), { padding: [24, 24], maxZoom: 18 });
})();

/* 受持区の区域の設定: tap the map to add vertices, drag them to move, and the GeoJSON text field
   follows the drawing; or tap once in 「交番等の位置」 mode to place the post. The households are
   shown for reference only (not links here). Needs beat_map.js (window.JunkaiBeatMap). */
(function () {
  "use strict";

  function round(x) {
    return Math.round(x * 1e6) / 1e6;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var B = window.JunkaiBeatMap;
    var el = document.getElementById("beat-map");
    var data = B.readJSON("beat-map-data");
    var config = B.readJSON("beat-map-config");
    if (!el || !data || !config) return;
    var made = B.create(el, data, config);
    var map = made.map;
    B.households(map, data, config, { interactive: false }).draw(function () {
      return true;
    });
    if (made.outline) made.outline.setStyle({ opacity: 0.35, dashArray: "6 6" });

    var textarea = document.getElementById("id_geojson");
    var status = document.getElementById("draw-status");
    var modeButton = document.getElementById("mode-post");
    var lat = document.getElementById("id_latitude");
    var lon = document.getElementById("id_longitude");
    var vertices = [];
    var handles = L.layerGroup().addTo(map);
    var draft = L.polygon([], { color: "#b3261e", weight: 3, fillOpacity: 0.08, className: "outline-draft" }).addTo(map);
    var postMarker = null;
    var placingPost = false;

    var outline = data.features.filter(function (f) {
      return f.properties.kind === "outline";
    })[0];
    if (outline && outline.geometry.type === "Polygon" && outline.geometry.coordinates.length === 1) {
      vertices = outline.geometry.coordinates[0].slice(0, -1).map(function (c) {
        return L.latLng(c[1], c[0]);
      });
    } else if (outline) {
      status.textContent = "複数の多角形や穴のある区域は地図上では編集できません。描き直すかGeoJSONで取り込んでください。";
    }

    function sync(write) {
      status.textContent =
        "頂点 " + vertices.length + " 個" + (vertices.length < 3 ? "（3個以上必要です）" : "");
      if (write && vertices.length >= 3) {
        var coords = vertices.map(function (v) {
          return [round(v.lng), round(v.lat)];
        });
        coords.push(coords[0]);
        textarea.value = JSON.stringify({ type: "Polygon", coordinates: [coords] });
      } else if (write) {
        textarea.value = "";
      }
    }

    function render(write) {
      draft.setLatLngs(vertices);
      handles.clearLayers();
      vertices.forEach(function (v, i) {
        var handle = L.marker(v, {
          draggable: true,
          icon: L.divIcon({ className: "vertex-handle", iconSize: [44, 44] }),
          title: i + 1 + "番目の頂点",
        });
        handle.on("drag", function (e) {
          vertices[i] = e.target.getLatLng();
          draft.setLatLngs(vertices);
        });
        handle.on("dragend", function () {
          sync(true);
        });
        handle.addTo(handles);
      });
      sync(write);
    }

    function placePost(latlng) {
      lat.value = round(latlng.lat).toFixed(6);
      lon.value = round(latlng.lng).toFixed(6);
      if (postMarker) postMarker.setLatLng(latlng);
      else
        postMarker = L.marker(latlng, {
          icon: L.divIcon({ className: "post-marker draft", html: "<span>交</span>", iconSize: [30, 30] }),
        }).addTo(map);
    }

    map.on("click", function (e) {
      if (placingPost) {
        placePost(e.latlng);
        placingPost = false;
        modeButton.setAttribute("aria-pressed", "false");
        el.classList.remove("placing");
        return;
      }
      vertices.push(e.latlng);
      render(true);
    });
    document.getElementById("undo-vertex").addEventListener("click", function () {
      vertices.pop();
      render(true);
    });
    document.getElementById("restart-outline").addEventListener("click", function () {
      vertices = [];
      render(true);
    });
    modeButton.addEventListener("click", function () {
      placingPost = !placingPost;
      modeButton.setAttribute("aria-pressed", placingPost ? "true" : "false");
      el.classList.toggle("placing", placingPost);
    });
    render(false);
    el.dataset.ready = "1";
  });
})();

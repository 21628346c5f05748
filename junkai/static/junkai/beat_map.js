/* 受持区地図: households by category (fill) and due status (ring), apartment buildings, the beat
   outline and the post, with client-side filters. Works without tiles (closed networks): the
   outline and the points are vector layers and never wait for the background.
   Data: <script id="beat-map-data"> (GeoJSON FeatureCollection from planning/maps.py) and
   <script id="beat-map-config"> (tiles, colours, links). */
(function () {
  "use strict";

  var DUE_STYLE = {
    overdue: { radius: 9, color: "#111", weight: 3, fillOpacity: 0.95 },
    soon: { radius: 8, color: "#111", weight: 2, dashArray: "3 3", fillOpacity: 0.9 },
    later: { radius: 6, color: "#fff", weight: 1.5, fillOpacity: 0.8 },
    vacant: { radius: 5, color: "#666", weight: 1, fillOpacity: 0.3 },
  };
  var JAPAN = [36.5, 137.5];

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function escapeHTML(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  function notice(text) {
    var el = document.getElementById("map-notice");
    if (el) {
      el.textContent = text;
      el.hidden = false;
    }
  }

  function byKind(data, kind) {
    return data.features.filter(function (f) {
      return f.properties.kind === kind;
    });
  }

  function latLng(feature) {
    var c = feature.geometry.coordinates;
    return L.latLng(c[1], c[0]);
  }

  /* A Leaflet map with the background (if any), the outline and the post. */
  function create(el, data, config) {
    // While drawing, quick taps add vertices: they must not zoom the map.
    var map = L.map(el, {
      zoomControl: true,
      attributionControl: true,
      zoomSnap: 0.5,
      doubleClickZoom: !config.editing,
      // With no tiles nothing else sets it, and the marker clusters need one.
      maxZoom: 18,
    });
    map.attributionControl.setPrefix(false);
    L.control.scale({ imperial: false }).addTo(map);
    var tiles = config.tiles || {};
    if (tiles.url) {
      var layer = L.tileLayer(tiles.url, {
        attribution: escapeHTML(tiles.attribution),
        maxZoom: 18,
        minZoom: 5,
      });
      var failed = false;
      layer.on("tileerror", function () {
        if (!failed) {
          failed = true;
          el.classList.add("no-tiles");
          notice("地図の背景（タイル）を読み込めません。区域と世帯の位置のみを表示しています。");
        }
      });
      layer.addTo(map);
    } else {
      el.classList.add("no-tiles");
    }
    var outline = byKind(data, "outline")[0];
    var outlineLayer = null;
    if (outline) {
      outlineLayer = L.geoJSON(outline, {
        interactive: false,
        style: { color: "#123d73", weight: 3, fillColor: "#123d73", fillOpacity: 0.06, className: "beat-outline" },
      }).addTo(map);
    }
    byKind(data, "post").forEach(function (post) {
      L.marker(latLng(post), {
        icon: L.divIcon({ className: "post-marker", html: "<span>交</span>", iconSize: [34, 34] }),
        title: post.properties.name,
        keyboard: false,
        interactive: !config.editing,
        zIndexOffset: 1000,
      })
        .bindTooltip(escapeHTML(post.properties.name))
        .addTo(map);
    });
    var points = data.features
      .filter(function (f) {
        return f.geometry.type === "Point";
      })
      .map(latLng);
    var bounds = outlineLayer ? outlineLayer.getBounds() : null;
    if (points.length) {
      var pointBounds = L.latLngBounds(points);
      bounds = bounds ? bounds.extend(pointBounds) : pointBounds;
    }
    if (bounds && bounds.isValid()) {
      // Clear of the zoom buttons (top left), so nothing starts under them.
      map.fitBounds(bounds, { paddingTopLeft: [64, 24], paddingBottomRight: [24, 24], maxZoom: 17 });
    } else {
      map.setView(JAPAN, 5);
    }
    return { map: map, outline: outlineLayer };
  }

  function householdStyle(props, colours) {
    var style = DUE_STYLE[props.due] || DUE_STYLE.later;
    return {
      radius: style.radius,
      color: style.color,
      weight: style.weight,
      dashArray: style.dashArray || null,
      fillColor: colours[props.category] || "#888",
      fillOpacity: style.fillOpacity,
      className: "hh-marker hh-" + props.due,
    };
  }

  /* A household as a 32 px target (the visible dot inside is smaller): a finger finds it. */
  function householdIcon(props, colours) {
    return L.divIcon({
      className: "hh-pin hh-" + props.due,
      html: '<span style="background:' + (colours[props.category] || "#888") + '"></span>',
      iconSize: [32, 32],
    });
  }

  function describe(props, meta) {
    var text = props.label;
    if (props.map_number) text = "No." + props.map_number + " " + text;
    return (
      escapeHTML(text) +
      "<br>" +
      escapeHTML(meta.categories[props.category] || props.category) +
      "・" +
      escapeHTML(meta.due_labels[props.due] || "") +
      (props.next_due && props.due !== "vacant" ? "（" + escapeHTML(props.next_due_label || props.next_due) + "）" : "")
    );
  }

  /* The households and buildings, redrawn whenever a filter changes. */
  function households(map, data, config, options) {
    var meta = data.junkai;
    // Clustered where the plugin is loaded (the beat map): the markers along a street merge
    // into one numbered disc until zoomed in; the outline editor draws them plain.
    var layer = (options.cluster && L.markerClusterGroup
      ? L.markerClusterGroup({ maxClusterRadius: 40, showCoverageOnHover: false, spiderfyOnMaxZoom: true })
      : L.layerGroup()
    ).addTo(map);
    // A popup opens clear of the zoom buttons (top left) and inside the map's edges.
    var popupPadding = { autoPanPaddingTopLeft: L.point(64, 12), autoPanPaddingBottomRight: L.point(12, 12) };
    var buildings = {};
    byKind(data, "building").forEach(function (b) {
      buildings[b.properties.id] = b;
    });
    var all = byKind(data, "household");
    var url = function (id) {
      return config.household_url.replace("{id}", id);
    };
    // 記録 (record a visit) for an officer who records at this post: the visit form, told to
    // come back to this map.
    var recordLink = function (p) {
      if (!config.visit_url || p.due === "vacant") return "";
      return (
        " <a class=\"button record\" href=\"" +
        config.visit_url.replace("{id}", p.id) +
        "\">記録</a>"
      );
    };

    function draw(keep) {
      layer.clearLayers();
      var shown = 0;
      var rooms = {};
      all.forEach(function (h) {
        var p = h.properties;
        if (!keep(p)) return;
        shown += 1;
        if (p.building_id && buildings[p.building_id]) {
          (rooms[p.building_id] = rooms[p.building_id] || []).push(p);
          return;
        }
        var marker = options.cluster
          ? L.marker(latLng(h), { icon: householdIcon(p, config.colours), title: p.label, keyboard: true })
          : L.circleMarker(latLng(h), householdStyle(p, config.colours));
        marker.options.interactive = options.interactive;
        if (options.interactive) {
          marker.bindTooltip(describe(p, meta), { direction: "top" });
          if (config.visit_url) {
            marker.bindPopup(
              "<div class=\"hh-popup\"><a href=\"" + url(p.id) + "\">" + describe(p, meta) + "</a>" + recordLink(p) + "</div>",
              L.extend({ minWidth: 220 }, popupPadding)
            );
          } else {
            marker.on("click", function () {
              window.location.href = url(p.id);
            });
          }
        }
        marker.addTo(layer);
      });
      Object.keys(rooms).forEach(function (id) {
        var b = buildings[id];
        var list = rooms[id];
        var overdue = list.some(function (p) {
          return p.due === "overdue";
        });
        var marker = L.marker(latLng(b), {
          icon: L.divIcon({
            className: "bldg-marker" + (overdue ? " overdue" : ""),
            html: "<span>" + list.length + "</span>",
            iconSize: [32, 32],
          }),
          title: b.properties.name,
          interactive: options.interactive,
          keyboard: options.interactive,
        });
        if (options.interactive) {
          var html =
            "<strong>" +
            escapeHTML(b.properties.name) +
            "</strong><ul class=\"bldg-rooms\">" +
            list
              .map(function (p) {
                return (
                  "<li><a href=\"" +
                  url(p.id) +
                  "\"><span class=\"dot\" style=\"background:" +
                  (config.colours[p.category] || "#888") +
                  "\"></span>" +
                  describe(p, meta) +
                  "</a>" +
                  recordLink(p) +
                  "</li>"
                );
              })
              .join("") +
            "</ul>";
          marker.bindPopup(html, L.extend({ maxHeight: 320, minWidth: 240 }, popupPadding));
        }
        marker.addTo(layer);
      });
      return shown;
    }

    return { draw: draw, total: all.length };
  }

  function filterFrom(form) {
    var checked = function (name) {
      return Array.prototype.map.call(form.querySelectorAll("input[name=" + name + "]:checked"), function (i) {
        return i.value;
      });
    };
    var categories = checked("category");
    var dues = checked("due");
    var town = form.elements.town ? form.elements.town.value : "";
    return function (p) {
      return categories.indexOf(p.category) >= 0 && dues.indexOf(p.due) >= 0 && (!town || p.town === town);
    };
  }

  /* How many filters narrow the map: each kind (区分, 巡回の期限) with a box unticked, and a
     町名 chosen. */
  function activeFilters(form) {
    var narrowed = function (name) {
      return form.querySelector("input[name=" + name + "]:not(:checked)") ? 1 : 0;
    };
    var town = form.elements.town && form.elements.town.value ? 1 : 0;
    return narrowed("category") + narrowed("due") + town;
  }

  /* 現在地: the officer's position from the device (Geolocation API), shown as a dot with its
     accuracy; a clear message when the device or the officer refuses. */
  function locateButton(map) {
    var here = null;
    var Control = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var button = L.DomUtil.create("button", "locate-button");
        button.type = "button";
        button.textContent = "現在地";
        button.setAttribute("aria-label", "現在地を表示");
        L.DomEvent.disableClickPropagation(button);
        L.DomEvent.on(button, "click", function () {
          if (!navigator.geolocation) {
            notice("この端末では現在地を取得できません。");
            return;
          }
          button.disabled = true;
          navigator.geolocation.getCurrentPosition(
            function (pos) {
              button.disabled = false;
              var at = L.latLng(pos.coords.latitude, pos.coords.longitude);
              if (here) map.removeLayer(here);
              here = L.layerGroup([
                L.circle(at, { radius: pos.coords.accuracy, interactive: false, color: "#0b6bcb", weight: 1, fillOpacity: 0.1 }),
                L.circleMarker(at, { radius: 8, color: "#fff", weight: 3, fillColor: "#0b6bcb", fillOpacity: 1, className: "here-marker" }),
              ]).addTo(map);
              map.setView(at, Math.max(map.getZoom(), 17));
            },
            function (error) {
              button.disabled = false;
              notice(
                error.code === 1
                  ? "現在地の利用が許可されていません。端末やブラウザーの設定で位置情報を許可すると、現在地を表示できます。"
                  : "現在地を取得できませんでした。屋外で、しばらくしてからもう一度お試しください。"
              );
            },
            { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 }
          );
        });
        return button;
      },
    });
    new Control().addTo(map);
  }

  window.JunkaiBeatMap = { create: create, households: households, readJSON: readJSON, notice: notice };

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("beat-map");
    var data = readJSON("beat-map-data");
    var config = readJSON("beat-map-config");
    if (!el || !data || !config || config.editing) return;
    var made = create(el, data, config);
    var points = households(made.map, data, config, { interactive: true, cluster: true });
    locateButton(made.map);
    var form = document.getElementById("map-filters");
    var count = document.getElementById("map-count");
    var active = document.getElementById("map-filter-active");
    var panel = document.getElementById("map-filter-panel");
    // Beside the map (wide screens) the filters stay open; above it (phone, upright iPad) they
    // fold behind their summary line so the map is on the first screen.
    if (panel && window.matchMedia("(min-width: 1000px)").matches) panel.open = true;
    var redraw = function () {
      var shown = points.draw(filterFrom(form));
      count.textContent = "表示中 " + shown + " / " + points.total + " 世帯";
      var applied = activeFilters(form);
      active.textContent = applied ? applied + "件適用中" : "すべて表示";
      active.classList.toggle("warn", applied > 0);
    };
    form.addEventListener("change", redraw);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
    });
    redraw();
    el.dataset.ready = "1";
  });
})();

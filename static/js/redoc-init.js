/*
 * Starts ReDoc on /api/v1/redoc/ (indicators/templates/indicators/api/redoc.html).
 *
 * Kept out of the page so that the Content-Security-Policy needs no inline script.
 * ReDoc adds <style> elements as it loads and renders; style-src allows them by the
 * page's nonce, which this script element carries. ReDoc stamps the nonce it is given
 * on the styles of its components, but its bundle also adds one stylesheet (its
 * scrollbars') before it knows the nonce, so until ReDoc has started this script stamps
 * the nonce on any <style> that scripts attach without one. Styles in the markup itself
 * still need the nonce, so injected markup cannot style the page.
 *
 * Loaded before the ReDoc bundle; both are deferred, so they run in document order.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.nonce) {
    return;
  }
  var nonce = script.nonce;

  function stamp(node) {
    if (node instanceof HTMLStyleElement && !node.nonce) {
      node.nonce = nonce;
    }
    return node;
  }
  var appendChild = Node.prototype.appendChild;
  var insertBefore = Node.prototype.insertBefore;
  Node.prototype.appendChild = function (node) {
    return appendChild.call(this, stamp(node));
  };
  Node.prototype.insertBefore = function (node, reference) {
    return insertBefore.call(this, stamp(node), reference);
  };

  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("redoc-container");
    if (!container || typeof window.Redoc === "undefined") {
      return;
    }
    var options = {};
    if (script.dataset.settings) {
      try {
        options = JSON.parse(script.dataset.settings);
      } catch (error) {
        options = {};
      }
    }
    options.nonce = nonce;
    window.Redoc.init(script.dataset.specUrl, options, container);
  });
})();

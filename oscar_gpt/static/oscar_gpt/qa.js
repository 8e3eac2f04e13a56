/* django-oscar-gpt: the product page's Q&A widget, enhanced. No build step, no libraries.
 * Without this script the form posts and the answer page refreshes itself; with it the
 * question is sent in the background and the answer appears in place, announced to screen
 * readers through the aria-live region. Everything shown is set as text, never as HTML. */
(function () {
  "use strict";

  var MAX_WAIT_MS = 90000;
  var T = {
    looking: "Looking through the product's details\u2026",
    yourQuestion: "Your question:",
    empty: "Please write your question.",
    report: "Not helpful? Tell us",
    failed: "Sorry, that didn't work. Please try again.",
    slow: "This is taking longer than usual.",
    follow: "Follow your question here",
  };
  var strings = document.getElementById("oscar-gpt-qa-strings");
  if (strings) {
    try { Object.assign(T, JSON.parse(strings.textContent)); } catch (e) { /* keep English */ }
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function Widget(section) {
    this.section = section;
    this.form = section.querySelector(".oscar-gpt-qa-form");
    this.result = section.querySelector(".oscar-gpt-qa-result");
    this.button = this.form.querySelector("button[type=submit]");
    this.textarea = this.form.querySelector("textarea[name=question]");
    this.pollMs = parseInt(section.getAttribute("data-poll-ms"), 10) || 400;
    this.form.addEventListener("submit", this.submit.bind(this));
  }

  Widget.prototype.busy = function (on) {
    // A disabled button loses the keyboard focus: keep it in the form.
    if (on && document.activeElement === this.button) this.textarea.focus();
    this.button.disabled = on;
    this.section.setAttribute("aria-busy", on ? "true" : "false");
  };

  Widget.prototype.show = function (nodes) {
    this.result.hidden = false;
    this.result.replaceChildren.apply(this.result, nodes);
  };

  Widget.prototype.error = function (message) {
    var p = el("p", "alert alert-danger", message);
    p.setAttribute("role", "alert");
    this.show([p]);
    this.busy(false);
  };

  Widget.prototype.submit = function (event) {
    event.preventDefault();
    if (!this.textarea.value.trim()) {
      this.error(T.empty);
      this.textarea.focus();
      return;
    }
    var self = this;
    this.busy(true);
    this.show([el("p", "oscar-gpt-qa-progress", T.looking)]);
    fetch(this.form.action, {
      method: "POST",
      body: new FormData(this.form),
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken(this.form) },
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (reply) {
        if (!reply.ok) {
          self.error(reply.data.error || reply.data.detail || T.failed);
          return;
        }
        self.textarea.value = "";
        self.follow(reply.data, reply.data.status_url, Date.now());
      })
      .catch(function () {
        // Network trouble: fall back to the plain form, which loses nothing.
        self.busy(false);
        self.form.submit();
      });
  };

  Widget.prototype.follow = function (payload, url, started) {
    var self = this;
    this.render(payload, url);
    if (payload.done) {
      this.busy(false);
      return;
    }
    if (Date.now() - started > MAX_WAIT_MS) {
      var link = el("a", "", T.follow);
      link.href = url;
      this.show([el("p", "", T.slow + " "), link]);
      this.busy(false);
      return;
    }
    window.setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (next) { self.follow(next, url, started); })
        .catch(function () { self.follow(payload, url, started); });
    }, this.pollMs);
  };

  Widget.prototype.render = function (payload, url) {
    var nodes = [];
    var asked = el("p", "oscar-gpt-qa-asked");
    asked.appendChild(el("strong", "", T.yourQuestion + " "));
    asked.appendChild(document.createTextNode(payload.question));
    nodes.push(asked);
    if (!payload.done) {
      nodes.push(el("p", "oscar-gpt-qa-progress", T.looking));
      this.show(nodes);
      return;
    }
    if (payload.message) nodes.push(el("p", "oscar-gpt-qa-message", payload.message));
    if (payload.answer) nodes.push(el("p", "oscar-gpt-qa-text", payload.answer));
    if (payload.evidence && payload.evidence.length) {
      var list = el("ul", "oscar-gpt-qa-evidence");
      payload.evidence.forEach(function (item) {
        var li = el("li");
        li.appendChild(el("span", "oscar-gpt-qa-label", item.label + ": "));
        li.appendChild(document.createTextNode(item.text));
        list.appendChild(li);
      });
      nodes.push(list);
    }
    if (payload.status === "answered") nodes.push(this.reportButton(url));
    this.show(nodes);
  };

  Widget.prototype.reportButton = function (url) {
    var self = this;
    var button = el("button", "btn btn-link btn-sm p-0 oscar-gpt-qa-report-button", T.report);
    button.type = "button";
    button.addEventListener("click", function () {
      button.disabled = true;
      fetch(url + "report/", {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken(self.form) },
      })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          var thanks = el("p", "small", data.message || data.error || "");
          thanks.tabIndex = -1;
          button.replaceWith(thanks);
          thanks.focus();
        })
        .catch(function () { button.disabled = false; });
    });
    return button;
  };

  function start() {
    if (!window.fetch || !window.FormData) return;  // the plain form works everywhere
    var sections = document.querySelectorAll(".oscar-gpt-qa");
    for (var i = 0; i < sections.length; i++) {
      if (sections[i].querySelector(".oscar-gpt-qa-form") && !sections[i].dataset.enhanced) {
        sections[i].dataset.enhanced = "1";
        new Widget(sections[i]);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

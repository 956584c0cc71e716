/*
 * Turnout's registration widget: the four steps of the funnel against the
 * public API, in plain JavaScript with no build step.
 *
 * On a Turnout page it mounts on every [data-turnout-widget] element. On
 * another site one tag is enough:
 *
 *   <script src="https://turnout.example.com/static/widget.js"
 *           data-webinar="uplevel-your-career-with-ai-ml-genai" defer></script>
 *
 * (that site's origin must be listed in Turnout's `cors_origins`).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var scriptOrigin = script && script.src ? new URL(script.src, window.location.href).origin : "";
  var MAX_RESUME_BYTES = 4 * 1024 * 1024;
  var RESUME_TYPES = {
    pdf: "application/pdf",
    docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  };
  var counter = 0;

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === false || value === null || value === undefined) return;
      if (name === "text") node.textContent = value;
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /* Browsers built on ICU still answer with some zones' old names. */
  var CURRENT_NAMES = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Europe/Kiev": "Europe/Kyiv",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Indianapolis": "America/Indiana/Indianapolis",
    "Pacific/Truk": "Pacific/Chuuk",
    "Pacific/Ponape": "Pacific/Pohnpei",
  };

  function browserZone() {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
      return CURRENT_NAMES[zone] || zone;
    } catch (error) {
      return "UTC";
    }
  }

  function zones(current) {
    var list = [];
    try {
      list = Intl.supportedValuesOf("timeZone");
    } catch (error) {
      list = [];
    }
    list = list.map(function (zone) {
      return CURRENT_NAMES[zone] || zone;
    });
    if (list.indexOf(current) < 0) list.unshift(current);
    return list;
  }

  /** Calls the API; resolves with {ok, status, body}. */
  function api(base, method, path, body, token) {
    var headers = {};
    var payload;
    if (body instanceof Blob) {
      payload = body;
      headers["content-type"] = body.type || "application/octet-stream";
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    if (token) headers.authorization = "Bearer " + token;
    return fetch(base + path, { method: method, headers: headers, body: payload }).then(
      function (response) {
        return response.text().then(function (text) {
          var parsed = null;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch (error) {
            parsed = null;
          }
          return { ok: response.ok, status: response.status, body: parsed };
        });
      },
      function () {
        return { ok: false, status: 0, body: { title: "We could not reach the server. Check your connection and try again." } };
      }
    );
  }

  function problemText(body) {
    if (!body) return "Something went wrong. Please try again.";
    return body.detail || body.title || "Something went wrong. Please try again.";
  }

  var STEPS = ["Enter details", "Select slot", "Almost there", "Done"];

  /** "India Standard Time, UTC+5:30" for Asia/Kolkata; the zone's own name
   * where the browser has no better one. */
  function zoneLabel(zone) {
    function part(style) {
      try {
        var parts = new Intl.DateTimeFormat("en", { timeZone: zone, timeZoneName: style }).formatToParts(new Date());
        var found = parts.filter(function (p) { return p.type === "timeZoneName"; })[0];
        return found ? found.value : "";
      } catch (error) {
        return "";
      }
    }
    var offset = part("shortOffset").replace(/^GMT/, "UTC") || "UTC";
    var name = part("long");
    if (!name || /^GMT/.test(name)) name = zone.replace(/_/g, " ");
    return name + ", " + offset;
  }

  /** "Thu 3 Dec" for a chip; the full day is its accessible name. */
  function shortDay(date) {
    try {
      return new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" })
        .format(new Date(date + "T00:00:00Z"));
    } catch (error) {
      return date;
    }
  }

  function Widget(host) {
    this.host = host;
    this.id = "tw" + ++counter;
    this.base = (host.getAttribute("data-api") || scriptOrigin || "").replace(/\/$/, "");
    this.webinar = host.getAttribute("data-webinar");
    this.zone = browserZone();
    this.lead = null;
    this.registration = null;
    this.consultation = null;
    host.classList.add("turnout-widget");
    this.live = el("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
    this.stage = el("div");
    host.textContent = "";
    host.appendChild(this.stage);
    host.appendChild(this.live);
    this.resume();
  }

  /*
   * Progress survives a reload of the page (not another tab or a new
   * visit): the details typed, the lead and the seat taken, in the
   * browser's session storage. Tokens never go in a URL.
   */
  Widget.prototype.storageKey = function () {
    return "turnout:" + this.webinar;
  };

  Widget.prototype.save = function () {
    try {
      window.sessionStorage.setItem(this.storageKey(), JSON.stringify({
        details: this.saved || null,
        lead: this.lead,
        registration: this.registration,
        zone: this.zone,
      }));
    } catch (error) {
      /* storage off or full: the funnel still works, without resuming */
    }
  };

  Widget.prototype.forget = function () {
    try {
      window.sessionStorage.removeItem(this.storageKey());
    } catch (error) {
      /* nothing kept */
    }
  };

  Widget.prototype.resume = function () {
    var kept = null;
    try {
      kept = JSON.parse(window.sessionStorage.getItem(this.storageKey()) || "null");
    } catch (error) {
      kept = null;
    }
    if (kept) {
      this.saved = kept.details;
      this.lead = kept.lead;
      this.registration = kept.registration;
      if (kept.zone) this.zone = kept.zone;
    }
    if (this.registration && this.lead) {
      this.blocked = "Webinar slot blocked: " + this.registration.label;
      this.almostThere();
    } else if (this.lead) {
      this.slots();
    } else {
      this.details();
    }
  };

  Widget.prototype.field = function (name) {
    return this.id + "-" + name;
  };

  Widget.prototype.announce = function (text) {
    this.live.textContent = "";
    var live = this.live;
    window.setTimeout(function () {
      live.textContent = text;
    }, 50);
  };

  /**
   * Replaces the stage with a step and, from the second step on, moves
   * focus to its heading (the first must not pull a reader's page away).
   */
  Widget.prototype.step = function (title, children, index) {
    var heading = el("h3", { tabindex: "-1", text: title });
    var progress = null;
    if (index !== undefined) {
      progress = el("ol", { class: "progress", "aria-label": "Registration steps" }, STEPS.map(function (name, at) {
        return el("li", {
          class: at < index ? "done" : at === index ? "current" : null,
          "aria-current": at === index ? "step" : null,
        }, [el("span", { class: "number", text: String(at + 1) }), " ", name]);
      }));
    }
    this.stage.textContent = "";
    this.stage.appendChild(el("section", { class: "step", "aria-label": title }, [progress, heading].concat(children)));
    if (this.started) heading.focus();
    this.started = true;
    return heading;
  };

  Widget.prototype.input = function (name, label, attributes, hint) {
    var id = this.field(name);
    var error = el("p", { id: id + "-error", class: "field-error" });
    var described = [id + "-error"];
    var help = null;
    if (hint) {
      help = el("p", { id: id + "-hint", class: "meta", text: hint });
      described.unshift(id + "-hint");
    }
    var input = el("input", Object.assign({ id: id, name: name, "aria-describedby": described.join(" ") }, attributes));
    return el("div", { class: "stack" }, [el("label", { for: id, text: label }), help, input, error]);
  };

  /**
   * The phone field with its country beside it: the country of the
   * visitor's zone first (Asia/Kolkata → India +91), every other one by
   * name in the visitor's language, so a national number is read right.
   */
  Widget.prototype.phoneField = function () {
    var id = this.field("phone");
    var countryId = this.field("country");
    var select = el("select", { id: countryId, name: "country", "aria-label": "Country code" }, [
      el("option", { value: "", text: "Country" }),
    ]);
    var input = el("input", {
      id: id, name: "phone", type: "tel", autocomplete: "tel-national", required: true, inputmode: "tel",
      "aria-describedby": id + "-hint " + id + "-error",
    });
    var names = window.Intl && Intl.DisplayNames ? new Intl.DisplayNames([navigator.language || "en"], { type: "region" }) : null;
    var examples = {};
    var placeholder = function () {
      input.placeholder = examples[select.value] || "+91 98765 43210";
    };
    select.addEventListener("change", placeholder);
    api(this.base, "GET", "/api/v1/phone-countries?tz=" + encodeURIComponent(this.zone)).then(function (response) {
      if (!response.ok) return;
      var countries = response.body.countries.map(function (country) {
        var name = country.code;
        try { name = (names && names.of(country.code)) || country.code; } catch (error) { /* an unknown region */ }
        examples[country.code] = country.example;
        return { code: country.code, label: name + " +" + country.calling_code };
      });
      countries.sort(function (a, b) { return a.label.localeCompare(b.label); });
      countries.forEach(function (country) {
        select.appendChild(el("option", { value: country.code, text: country.label, selected: country.code === response.body.default }));
      });
      placeholder();
    });
    placeholder();
    return el("div", { class: "stack" }, [
      el("label", { for: id, text: "Phone" }),
      el("p", { id: id + "-hint", class: "meta", text: "Used to send reminders for the webinar. Type it as you would dial it at home, or start with +." }),
      el("div", { class: "phone" }, [select, input]),
      el("p", { id: countryId + "-error", class: "field-error" }),
      el("p", { id: id + "-error", class: "field-error" }),
    ]);
  };

  /**
   * Shows each error next to its field; one about a field the form does not
   * have (say, the time zone) goes to the form's general message.
   */
  Widget.prototype.showErrors = function (form, errors, general) {
    var widget = this;
    form.querySelectorAll(".field-error").forEach(function (node) {
      node.textContent = "";
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) {
      node.removeAttribute("aria-invalid");
    });
    if (general) general.textContent = "";
    var first = null;
    errors.forEach(function (error) {
      var name = { "consent.privacy_policy": "privacy", "consent.sms": "sms", "consent.whatsapp": "whatsapp" }[error.field] || error.field;
      var input = document.getElementById(widget.field(name));
      var message = document.getElementById(widget.field(name) + "-error");
      if (input && message && form.contains(input)) {
        input.setAttribute("aria-invalid", "true");
        message.textContent = error.message;
        first = first || input;
      } else if (general) {
        general.textContent = (general.textContent ? general.textContent + " " : "") + error.message;
      }
    });
    var summary = errors.map(function (error) {
      return error.message;
    });
    this.announce(summary.join(". "));
    if (first) first.focus();
    return first;
  };

  /* Step 1: who they are. Submitting records the lead. */
  Widget.prototype.details = function () {
    var widget = this;
    // The form token says when the form was shown: the server refuses a
    // form sent sooner than a person could fill it in.
    var shown = Date.now();
    var form_token = api(widget.base, "GET", "/api/v1/form-token").then(function (response) {
      return response.ok ? response.body : { form_token: null, min_fill_ms: 0 };
    });
    var general = el("p", { class: "error", role: "alert" });
    var submit = el("button", { type: "submit", text: "Continue" });
    var privacyId = this.field("privacy");
    // Offered only where Turnout sends by WhatsApp (the form token says).
    var whatsapp = el("label", { hidden: true }, [
      el("input", { type: "checkbox", id: this.field("whatsapp"), name: "whatsapp" }),
      " Send my confirmation and reminders on WhatsApp (by SMS if this number isn't on WhatsApp)",
    ]);
    form_token.then(function (token) {
      if (token.whatsapp) whatsapp.hidden = false;
    });
    var form = el("form", { novalidate: true }, [
      this.input("name", "Full name", { type: "text", autocomplete: "name", required: true }),
      this.input("email", "Email", { type: "email", autocomplete: "email", required: true }),
      this.phoneField(),
      el("div", { class: "stack" }, [
        el("label", {}, [el("input", { type: "checkbox", id: this.field("sms"), name: "sms" }), " Send me SMS reminders"]),
        whatsapp,
        el("label", {}, [
          el("input", { type: "checkbox", id: privacyId, name: "privacy", required: true, "aria-describedby": privacyId + "-error" }),
          " By sharing your contact details you agree to our ",
          el("a", { href: this.base + "/privacy", target: "_blank", rel: "noopener", text: "privacy policy" }),
        ]),
        el("p", { id: privacyId + "-error", class: "field-error" }),
      ]),
      // The honeypot: hidden from people and screen readers; a script that
      // fills every field fills this one too.
      el("div", { hidden: true, "aria-hidden": "true" }, [
        el("label", {}, ["Website", el("input", { type: "text", name: "website", tabindex: "-1", autocomplete: "off" })]),
      ]),
      general,
      submit,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      general.textContent = "";
      var data = new FormData(form);
      var typed = {
        name: data.get("name"), email: data.get("email"), phone: data.get("phone"), country: data.get("country"),
        sms: !!data.get("sms"), whatsapp: !!data.get("whatsapp"), privacy: !!data.get("privacy"),
      };
      // Back from step 2 with nothing changed: the same lead goes on.
      if (widget.lead && widget.saved && JSON.stringify(widget.saved) === JSON.stringify(typed)) {
        widget.slots();
        return;
      }
      // Every field is checked by the server at once, the consent too, so
      // all of a step's errors show together in one voice.
      submit.disabled = true;
      var page = window.location.href.split("#")[0];
      var utm = {};
      new URLSearchParams(window.location.search).forEach(function (value, key) {
        if (/^utm_(source|medium|campaign|term|content)$/.test(key)) utm[key] = value;
      });
      form_token.then(function (token) {
        // A person is rarely this fast; a browser filling in saved details
        // can be, so wait out the rest rather than be refused.
        var wait = Math.max(0, (token.min_fill_ms || 0) + 250 - (Date.now() - shown));
        return new Promise(function (resolve) { setTimeout(resolve, wait); }).then(function () {
          return api(widget.base, "POST", "/api/v1/leads", {
            webinar: widget.webinar,
            name: data.get("name"),
            email: data.get("email"),
            phone: data.get("phone"),
            time_zone: widget.zone,
            country: data.get("country") || null,
            consent: { privacy_policy: !!data.get("privacy"), sms: !!data.get("sms"), whatsapp: !whatsapp.hidden && !!data.get("whatsapp") },
            attribution: Object.assign({ page: page, referrer: document.referrer || null }, utm),
            form_token: token.form_token,
            website: data.get("website") || null,
          });
        });
      }).then(function (response) {
        submit.disabled = false;
        if (response.ok) {
          widget.lead = response.body;
          widget.saved = typed;
          widget.save();
          widget.slots();
        } else if (response.body && response.body.errors && response.body.errors.length) {
          widget.showErrors(form, response.body.errors, general);
        } else {
          general.textContent = problemText(response.body);
        }
      });
    });
    var saved = this.saved;
    if (saved) {
      ["name", "email", "phone"].forEach(function (name) {
        if (saved[name]) form.elements[name].value = saved[name];
      });
      form.elements.sms.checked = !!saved.sms;
      form.elements.whatsapp.checked = !!saved.whatsapp;
      form.elements.privacy.checked = !!saved.privacy;
      if (saved.country) {
        var country = form.elements.country;
        var pick = function () {
          if (country.querySelector("option[value='" + saved.country + "']")) country.value = saved.country;
        };
        pick();
        window.setTimeout(pick, 500);
      }
    }
    this.step("Enter details", [form], 0);
  };

  /* Step 2: a date, then a time on it, in the visitor's zone. */
  Widget.prototype.slots = function () {
    var widget = this;
    var zoneId = this.field("zone");
    var zoneName = el("strong", { text: zoneLabel(this.zone) });
    // A searchable list of every zone: type a city, a country's zone or
    // an offset.
    var zoneList = el("datalist", { id: zoneId + "-list" });
    var zoneInput = el("input", {
      type: "search", id: zoneId, list: zoneId + "-list", hidden: true, autocomplete: "off",
      "aria-label": "Search time zones", placeholder: "Search a city, e.g. Kolkata",
    });
    var known = zones(this.zone);
    var change = el("button", { type: "button", class: "link", text: "Change time zone" });
    change.addEventListener("click", function () {
      if (!zoneList.firstChild) {
        known.forEach(function (zone) {
          zoneList.appendChild(el("option", { value: zone, label: zoneLabel(zone) }));
        });
      }
      zoneInput.hidden = false;
      zoneInput.focus();
    });
    zoneInput.addEventListener("change", function () {
      if (known.indexOf(zoneInput.value) < 0) return;
      widget.zone = zoneInput.value;
      zoneName.textContent = zoneLabel(widget.zone);
      zoneInput.hidden = true;
      zoneInput.value = "";
      widget.save();
      load();
    });
    // Once a seat is held the details are the registration's: Back only
    // before that.
    var back = widget.registration
      ? el("p", { class: "meta", text: "Your seat is held for " + widget.registration.label + ". Choosing another time moves it." })
      : el("button", { type: "button", class: "link back", text: "← Back to your details" });
    if (!widget.registration) {
      back.addEventListener("click", function () {
        widget.details();
      });
    }
    var dates = el("ul", { class: "dates", "aria-labelledby": this.field("dates") });
    var list = el("ul", { class: "slots", "aria-labelledby": this.field("times") });
    var message = el("p", { class: "error", role: "alert" });
    var days = [];
    var chosenDate = null;

    /* A chip for each day that has sessions; a day of full ones says so. */
    function renderDates() {
      dates.textContent = "";
      days.forEach(function (day) {
        var full = day.slots.every(function (slot) { return slot.status !== "open"; });
        var chip = el("button", {
          type: "button", "aria-pressed": String(day.date === chosenDate), "data-date": day.date,
          "aria-label": day.label + (full ? ", full" : ""),
        }, [el("span", { text: shortDay(day.date) }), full ? el("small", { text: "full" }) : null]);
        chip.addEventListener("click", function () {
          chosenDate = day.date;
          renderDates();
          render();
        });
        dates.appendChild(el("li", {}, [chip]));
      });
    }

    function render() {
      list.textContent = "";
      var day = days.filter(function (d) {
        return d.date === chosenDate;
      })[0];
      if (!day) {
        list.appendChild(el("li", { text: days.length ? "Choose a day above." : "No upcoming sessions." }));
        return;
      }
      day.slots.forEach(function (slot) {
        var full = slot.status !== "open";
        var label = slot.time_label + (full ? " (full)" : "");
        var button = el("button", { type: "button", disabled: full, "aria-pressed": "false", "data-slot": slot.slot_id, text: label });
        button.addEventListener("click", function () {
          choose(slot, button);
        });
        var item = [button];
        if (full) {
          var wait = el("button", { type: "button", class: "secondary waitlist", text: "Join the waiting list for " + slot.time_label });
          wait.addEventListener("click", function () {
            joinWaitlist(slot, wait);
          });
          item.push(wait);
        }
        list.appendChild(el("li", {}, item));
      });
    }

    function load() {
      message.textContent = "";
      dates.textContent = "";
      list.textContent = "";
      dates.appendChild(el("li", { class: "loading", text: "Loading the sessions…" }));
      var path = "/api/v1/webinars/" + encodeURIComponent(widget.webinar) + "/slots?tz=" + encodeURIComponent(widget.zone);
      return api(widget.base, "GET", path).then(function (response) {
        if (!response.ok) {
          message.textContent = problemText(response.body);
          return;
        }
        days = response.body.days || [];
        var keep = days.some(function (d) {
          return d.date === chosenDate;
        });
        if (!keep) {
          // The first day with a seat left, else the first day.
          var open = days.filter(function (d) {
            return d.slots.some(function (slot) { return slot.status === "open"; });
          })[0];
          chosenDate = (open || days[0] || {}).date || null;
        }
        renderDates();
        render();
      });
    }

    function choose(slot, button) {
      var held = widget.registration;
      if (held && held.slot && held.slot.slot_id === slot.slot_id) {
        widget.almostThere();
        return;
      }
      list.querySelectorAll("button").forEach(function (other) {
        other.disabled = true;
      });
      button.setAttribute("aria-pressed", "true");
      // Back from step 3 the seat is already held: another time moves it.
      var request = held && held.manage_token
        ? api(widget.base, "POST", "/api/v1/registrations/" + held.registration_id + "/reschedule",
          { slot_id: slot.slot_id }, held.manage_token)
        : api(widget.base, "POST", "/api/v1/registrations", {
          slot_id: slot.slot_id,
          lead_id: widget.lead.lead_id,
          lead_token: widget.lead.lead_token,
        });
      request.then(function (response) {
        if (response.ok && response.body.status === "already_registered") {
          widget.alreadyRegistered(response.body);
        } else if (response.ok) {
          widget.registration = Object.assign({}, held || {}, response.body);
          widget.blocked = "Webinar slot blocked: " + response.body.label;
          widget.save();
          widget.almostThere();
        } else {
          message.textContent = response.status === 409 ? "That time has just filled up. Please choose another." : problemText(response.body);
          load();
        }
      });
    }

    /* A full slot: a place in its line; a freed seat is offered by email. */
    function joinWaitlist(slot, button) {
      button.disabled = true;
      api(widget.base, "POST", "/api/v1/waitlist", {
        slot_id: slot.slot_id,
        lead_id: widget.lead.lead_id,
        lead_token: widget.lead.lead_token,
      }).then(function (response) {
        if (response.status === 201) {
          widget.waiting(slot, response.body);
        } else if (response.ok) {
          widget.step("You're on our list already", [el("p", { text: response.body.detail })]);
          widget.announce(response.body.detail);
        } else {
          message.textContent = response.status === 409 ? "A seat has just freed: choose the time again to take it." : problemText(response.body);
          load();
        }
      });
    }

    this.step("Select webinar slot", [
      el("p", { class: "zone" }, ["Times in ", zoneName, " ", change]),
      zoneInput,
      zoneList,
      el("h4", { id: this.field("dates"), text: "Select a date" }),
      dates,
      el("h4", { id: this.field("times"), text: "Time slots" }),
      list,
      message,
      back,
    ], 1);
    load();
  };

  /* A place on a full slot's waiting list. */
  Widget.prototype.waiting = function (slot, place) {
    this.step("You're on the waiting list", [
      el("p", {}, [el("strong", { text: slot.label }), " is full; you are number " + place.position + " in line."]),
      el("p", { text: "If a seat frees, we hold it for you and email you a link to claim it. Your place, and a way to leave the list, are in the email we are sending now." }),
      el("p", {}, [el("a", { href: place.page, text: "See your place" })]),
    ]);
    this.announce("You're on the waiting list, number " + place.position);
  };

  /* The address already holds a seat: the API says nothing more about it
     (the visitor may not be its owner); the owner is emailed their link. */
  Widget.prototype.alreadyRegistered = function (answer) {
    this.step("You're already registered", [
      el("p", { text: answer.detail }),
      el("p", { class: "meta", text: "The link in your first confirmation email works too." }),
    ]);
    this.announce(answer.detail);
  };

  /* Step 3: the callback window, and optionally the résumé. */
  Widget.prototype.almostThere = function () {
    var widget = this;
    var windowId = this.field("window");
    var resumeId = this.field("resume");
    var select = el("select", { id: windowId, name: "window", required: true, "aria-describedby": windowId + "-error" });
    var resume = el("input", {
      type: "file",
      id: resumeId,
      name: "resume",
      accept: ".pdf,.docx," + RESUME_TYPES.pdf + "," + RESUME_TYPES.docx,
      "aria-describedby": resumeId + "-hint " + resumeId + "-error",
    });
    var general = el("p", { class: "error", role: "alert" });
    var submit = el("button", { type: "submit", text: "Complete registration" });
    // A chosen option shows only its window; this line names its day too.
    var chosen = el("p", { class: "meta", "aria-live": "polite" });
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var group = option && option.parentNode && option.parentNode.label;
      chosen.textContent = option && option.value ? "Our advisor will call you " + group + ", " + option.text : "";
    });
    var form = el("form", { novalidate: true }, [
      el("p", { class: "done", text: this.blocked }),
      el("div", { class: "stack" }, [
        el("label", { for: windowId, text: "Your preferred slot for consultation" }),
        select,
        chosen,
        el("p", { id: windowId + "-error", class: "field-error" }),
      ]),
      el("div", { class: "stack" }, [
        el("label", { for: resumeId, text: "Get your résumé reviewed (optional)" }),
        el("p", { id: resumeId + "-hint", class: "meta", text: "PDF or DOCX, up to 4 MB." }),
        resume,
        el("p", { id: resumeId + "-error", class: "field-error" }),
      ]),
      general,
      submit,
    ]);
    var path = "/api/v1/consultation-windows?tz=" + encodeURIComponent(this.zone);
    select.appendChild(el("option", { value: "", text: "Loading the times…" }));
    api(this.base, "GET", path).then(function (response) {
      select.textContent = "";
      if (!response.ok) {
        general.textContent = problemText(response.body);
        return;
      }
      select.appendChild(el("option", { value: "", text: "Choose a day and time" }));
      (response.body.days || []).forEach(function (day) {
        var group = el("optgroup", { label: day.label });
        day.windows.forEach(function (w) {
          group.appendChild(el("option", { value: w.window_id, disabled: !w.available, text: w.label + (w.available ? "" : " (fully booked)") }));
        });
        select.appendChild(group);
      });
    });

    function resumeError() {
      var file = resume.files && resume.files[0];
      if (!file) return null;
      var extension = (file.name.split(".").pop() || "").toLowerCase();
      if (!RESUME_TYPES[extension]) return "Upload a PDF or DOCX file";
      if (file.size > MAX_RESUME_BYTES) return "Your résumé must be 4 MB or smaller";
      return null;
    }

    resume.addEventListener("change", function () {
      var problem = resumeError();
      widget.showErrors(form, problem ? [{ field: "resume", message: problem }] : []);
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      general.textContent = "";
      var errors = [];
      if (!select.value) errors.push({ field: "window", message: "Choose when our program advisor should call you" });
      var problem = resumeError();
      if (problem) errors.push({ field: "resume", message: problem });
      if (errors.length) {
        widget.showErrors(form, errors);
        return;
      }
      submit.disabled = true;
      var booked = widget.consultation
        ? Promise.resolve({ ok: true, body: widget.consultation })
        : api(widget.base, "POST", "/api/v1/consultations", {
            lead_id: widget.lead.lead_id,
            lead_token: widget.lead.lead_token,
            window_id: select.value,
          });
      booked
        .then(function (response) {
          if (!response.ok) {
            if (response.body && response.body.errors && response.body.errors.length) {
              widget.showErrors(form, response.body.errors.map(function (e) {
                return { field: e.field === "window_id" ? "window" : e.field, message: e.message };
              }), general);
            } else {
              general.textContent = problemText(response.body);
            }
            return null;
          }
          widget.consultation = response.body;
          var file = resume.files && resume.files[0];
          if (!file) return true;
          var typed = new Blob([file], { type: RESUME_TYPES[file.name.split(".").pop().toLowerCase()] });
          var upload = "/api/v1/consultations/" + widget.consultation.consultation_id + "/resume";
          return api(widget.base, "PUT", upload, typed, widget.lead.lead_token).then(function (uploaded) {
            if (uploaded.ok) return true;
            widget.showErrors(form, [{ field: "resume", message: problemText(uploaded.body) }]);
            return null;
          });
        })
        .then(function (done) {
          submit.disabled = false;
          if (done) widget.completed();
        });
    });
    // Until the callback is booked the webinar's time may still change.
    var change = el("button", { type: "button", class: "link back", text: "← Choose another webinar time" });
    change.addEventListener("click", function () {
      widget.slots();
    });
    this.step("Almost there", [form, widget.consultation ? null : change], 2);
    this.announce(this.blocked);
  };

  /* Step 4: what they booked, and a way to put it in their calendar. */
  Widget.prototype.completed = function () {
    var registration = this.registration;
    var consultation = this.consultation;
    var ics = registration.calendar.ics;
    this.forget();
    this.step("Registration completed", [
      el("p", {}, [el("strong", { text: registration.label }), " (" + zoneLabel(registration.time_zone || this.zone) + ") — your webinar slot"]),
      el("p", { class: "join" }, [
        el("a", { class: "button", href: registration.join_link, text: "Your join link" }),
        " Keep it: it opens the webinar shortly before the start, and the replay afterwards.",
      ]),
      el("p", {}, [
        el("strong", { text: consultation.window.day_label + ", " + consultation.window.label }),
        " — our program advisor will call you at this time",
      ]),
      el("p", {}, [
        el("a", { href: registration.calendar.google, target: "_blank", rel: "noopener", text: "Add to Google Calendar" }),
        " · ",
        el("a", { href: registration.calendar.outlook, target: "_blank", rel: "noopener", text: "Add to Outlook" }),
        " · ",
        el("a", { href: ics, text: "Download the invitation (.ics)" }),
      ]),
      el("p", { class: "meta", text: "A confirmation email with your invitation and this link is on its way." }),
    ], 3);
  };

  function mount() {
    var hosts = Array.prototype.slice.call(document.querySelectorAll("[data-turnout-widget]"));
    if (!hosts.length && script && script.getAttribute("data-webinar")) {
      var host = el("div", { "data-turnout-widget": true, "data-webinar": script.getAttribute("data-webinar") });
      script.parentNode.insertBefore(host, script.nextSibling);
      hosts = [host];
    }
    hosts.forEach(function (host) {
      if (!host.turnoutWidget) host.turnoutWidget = new Widget(host);
    });
    // A page's "Register free" bar steps aside while the form is in view.
    var bar = document.querySelector(".register-bar");
    var form = document.getElementById("register");
    if (bar && form && window.IntersectionObserver) {
      new IntersectionObserver(function (entries) {
        bar.hidden = entries[0].isIntersecting;
      }).observe(form);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
})();

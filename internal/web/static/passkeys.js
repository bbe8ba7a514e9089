// latchkey: the passkey buttons of the hosted pages. Served from
// latchkey's own origin (the pages' CSP: script-src 'self', no inline
// script). Each button's form stays hidden unless this browser can use
// passkeys; everything else on the pages works without this script.
//
// A ceremony: POST the form's data-begin (latchkey's JSON API) for the
// options, let the browser ask the authenticator, then put the
// credential (PublicKeyCredential.toJSON()) in the form and submit it:
// the server answers as it does any form (a redirect, or the page with
// an error).
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
    return;
  }

  function fromB64url(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: fromB64url(c.id) });
    });
  }

  // The options JSON as the browser's API takes it: the WebAuthn Level 3
  // parsers where the browser has them, the same by hand where not.
  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: fromB64url(json.challenge),
      user: Object.assign({}, json.user, { id: fromB64url(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials)
    });
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: fromB64url(json.challenge),
      allowCredentials: withIds(json.allowCredentials)
    });
  }

  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") {
      return cred.toJSON();
    }
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) }
    };
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle) {
        out.response.userHandle = toB64url(r.userHandle);
      }
    }
    return out;
  }

  // begin asks latchkey for a ceremony's options; a refusal is thrown
  // with the problem document's code and detail.
  function begin(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (res) {
      return res.json().then(function (json) {
        if (!res.ok) {
          var err = new Error(json.detail || json.title || "The server refused.");
          err.code = json.code;
          throw err;
        }
        return json;
      });
    });
  }

  function wire(form, ceremony) {
    var error = document.getElementById(form.dataset.error || "passkey-error");
    var note = document.getElementById("passkeys-need-script");
    var button = form.querySelector("button[type=submit]");
    form.hidden = false;
    if (note) {
      note.hidden = true;
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      button.disabled = true;
      error.hidden = true;
      ceremony(form).then(function (cred) {
        form.elements.credential.value = JSON.stringify(credentialJSON(cred));
        form.submit(); // not a submit event: this handler does not run again
      }).catch(function (e) {
        button.disabled = false;
        if (e && e.code === "reauthentication_required") {
          window.location.assign("/account?done=reauth-needed#reauthenticate");
          return;
        }
        var msg = (e && e.message) || "Passkeys did not work in this browser.";
        if (e && e.name === "NotAllowedError") {
          msg = "The passkey request was cancelled or timed out.";
        } else if (e && e.name === "InvalidStateError") {
          msg = "This authenticator already holds a passkey for your account.";
        }
        error.textContent = msg;
        error.hidden = false;
      });
    });
  }

  var login = document.getElementById("passkey-login");
  if (login) {
    wire(login, function (form) {
      return begin(form.dataset.begin).then(function (options) {
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      });
    });
  }
  var reauth = document.getElementById("passkey-reauth") || document.getElementById("passkey-mfa");
  if (reauth) {
    wire(reauth, function (form) {
      return begin(form.dataset.begin).then(function (options) {
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      });
    });
  }
  var add = document.getElementById("passkey-add");
  if (add) {
    wire(add, function (form) {
      return begin(form.dataset.begin, { name: form.elements.name.value }).then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      });
    });
  }
})();

// Like, unlike, follow and unfollow without a reload, and deleting a post asked in place.
//
// Each is a plain form or link that works without this script: a like or follow form
// posts and comes back to the page; Delete opens a page that asks first. The script sends
// the same request with "Accept: application/json", shows the answer where the member
// is, and moves nothing on the page. When anything else comes back (a lost session, a
// failed CSRF check, no network), it does what the form or link does without it.
(function () {
  "use strict";

  function token() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function send(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token() },
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok || type.indexOf("application/json") !== 0) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }

  var show = {
    like: function (form, state) {
      var button = form.querySelector("button");
      button.classList.toggle("liked", state.liked);
      button.setAttribute("aria-pressed", String(state.liked));
      button.title = state.title;
      button.querySelector(".likes").textContent = String(state.likes);
    },
    follow: function (form, state) {
      var button = form.querySelector("button");
      button.textContent = state.label;
      button.classList.toggle("secondary", state.followed);
      var card = form.closest(".member-card");
      var followers = card && card.querySelector("[data-followers]");
      if (followers) {
        followers.textContent = state.followers_label;
      }
    },
  };

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var kind = form.getAttribute("data-inplace");
    if (!show[kind]) {
      return;
    }
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") {
      return; // one request at a time per button
    }
    form.setAttribute("aria-busy", "true");
    send(form.action, new FormData(form))
      .then(function (state) {
        form.action = state.action;
        show[kind](form, state);
      })
      .catch(function () {
        form.submit(); // the request without the script (like and follow are idempotent)
      })
      .finally(function () {
        form.removeAttribute("aria-busy");
      });
  });

  // Delete: the confirmation page's question, in place of the link.
  function ask(link) {
    var template = document.getElementById("delete-question");
    if (!template) {
      window.location.assign(link.href);
      return;
    }
    var question = template.content.firstElementChild.cloneNode(true);
    var yes = question.querySelector("[data-answer=yes]");
    var no = question.querySelector("[data-answer=no]");
    function close() {
      question.remove();
      link.hidden = false;
      link.focus();
    }
    yes.addEventListener("click", function () {
      yes.disabled = no.disabled = true;
      var body = new FormData();
      body.append("csrfmiddlewaretoken", token());
      send(link.pathname, body)
        .then(function (answer) {
          var post = link.closest(".post");
          var note = document.createElement(post.tagName);
          note.className = "deleted";
          note.setAttribute("role", "status");
          note.textContent = answer.message;
          note.tabIndex = -1;
          post.replaceWith(note);
          note.focus(); // where the post was, not the top of the page
        })
        .catch(function () {
          window.location.assign(link.href); // the page that asks, and says what went wrong
        });
    });
    no.addEventListener("click", close);
    question.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        close();
      }
    });
    link.hidden = true;
    link.after(question);
    no.focus(); // the safe answer first: a second Enter keeps the post
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-delete]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    ask(link);
  });
})();

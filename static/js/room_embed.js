/* The moderator's embedded Jitsi room: join with the token, start file recording once in
   (unless the platform records on its own: data-start-recording="false").
   Loaded only on the room page, after Jitsi's external_api.js. */
(function () {
  "use strict";
  var node = document.getElementById("jitsi-room");
  var status = document.getElementById("room-status");
  if (!node) { return; }
  if (typeof window.JitsiMeetExternalAPI !== "function") {
    if (status) { status.textContent = node.getAttribute("data-unavailable") || ""; }
    return;
  }
  var api = new window.JitsiMeetExternalAPI(node.dataset.domain, {
    roomName: node.dataset.room,
    jwt: node.dataset.jwt,
    parentNode: node,
    width: "100%",
    height: "100%",
    userInfo: { displayName: node.dataset.displayName, email: node.dataset.email }
  });
  window.cedarRoom = api;
  if (node.dataset.startRecording !== "false") {
    api.addEventListener("videoConferenceJoined", function () {
      api.executeCommand("startRecording", { mode: "file" });
    });
  }
  api.addEventListener("readyToClose", function () { api.dispose(); });

  /* The register: tell the portal when the teacher leaves the room (hang-up, or the page
     closing), so the session ends then and not at the room's close. Sent once. */
  var leftSent = false;
  function sendLeft(closing) {
    var url = node.dataset.leftUrl;
    if (leftSent || !url) { return; }
    leftSent = true;
    var form = new FormData();
    form.append("csrfmiddlewaretoken", node.dataset.csrfToken || "");
    if (closing && navigator.sendBeacon) {
      navigator.sendBeacon(url, form);
      return;
    }
    fetch(url, {
      method: "POST", body: form, credentials: "same-origin", keepalive: true,
      headers: { "X-CSRFToken": node.dataset.csrfToken || "" }
    }).catch(function () { leftSent = false; });
  }
  api.addEventListener("videoConferenceJoined", function () { leftSent = false; });
  api.addEventListener("videoConferenceLeft", function () { sendLeft(false); });
  window.addEventListener("pagehide", function () { sendLeft(true); });
})();

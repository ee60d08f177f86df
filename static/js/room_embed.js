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
})();

// User add form: while "Send the user an e-mail with a link to set the password" is ticked,
// the password fields are disabled (and emptied), so the form cannot carry both.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const sendLink = document.getElementById("id_send_password_link");
  const passwords = ["id_password1", "id_password2"]
    .map(function (id) { return document.getElementById(id); })
    .filter(Boolean);
  if (!sendLink || passwords.length === 0) {
    return;
  }
  function sync() {
    passwords.forEach(function (input) {
      input.disabled = sendLink.checked;
      if (sendLink.checked) {
        input.value = "";
      }
    });
  }
  sendLink.addEventListener("change", sync);
  sync();
});

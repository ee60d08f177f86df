-- Prosody event sync for the Cedar webinar portal: the register's joins and leaves
-- (docs/register.md, "Self-hosted Jitsi: Prosody event sync").
--
-- 1. Install jitsi-contrib's component beside Jitsi's Prosody plugins, e.g. on Debian:
--      cd /usr/share/jitsi-meet/prosody-plugins/
--      wget -O mod_event_sync_component.lua \
--        https://raw.githubusercontent.com/jitsi-contrib/prosody-plugins/main/event_sync/mod_event_sync_component.lua
-- 2. Copy this block into /etc/prosody/conf.d/<your Jitsi domain>.cfg.lua, replacing
--    meet.school.edu with your Jitsi domain, portal.school.edu with the portal's address and
--    CHANGE-ME with the portal's PROSODY_EVENT_SECRET (the same long random string on both).
-- 3. Enable JWT on Jitsi with the portal's JITSI_JWT_* settings: the occupant "id" the portal
--    matches people by is the token's context.user.id (without tokens nobody can be matched).
-- 4. systemctl restart prosody
--
-- The component then POSTs JSON to
--      https://portal.school.edu/api/webhooks/prosody/events/occupant/joined
--      https://portal.school.edu/api/webhooks/prosody/events/occupant/left
--      (and …/events/room/created, …/events/room/destroyed, which the portal records)
-- with "Authorization: Bearer CHANGE-ME". Without the right secret the portal answers 401.

Component "esync.meet.school.edu" "event_sync_component"
    muc_component = "conference.meet.school.edu"
    breakout_component = "breakout.meet.school.edu"

    api_prefix = "https://portal.school.edu/api/webhooks/prosody"

    api_headers = {
        ["Authorization"] = "Bearer CHANGE-ME";
    }

    -- The portal answers in milliseconds; retry a few times when it is restarting (5xx).
    api_timeout = 10
    api_retry_count = 5
    api_retry_delay = 2

    -- Optional: the whole JWT user context (moderator flag, affiliation) in each occupant.
    include_user_info = true

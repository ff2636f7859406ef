// The commented starter configuration `lanekeeper init` writes.

export const STARTER_CONFIG = `# lanekeeper configuration. Check it with: lanekeeper validate
# Durations are strings: "180s", "65m", "2h". Unknown keys are errors.

# state_dir: ~/.local/state/lanekeeper   # journal, database, session logs (default: $XDG_STATE_HOME/lanekeeper)
width: 3                 # sessions started per tick at most

schedule:
  interval: 30m          # a tick every 30 minutes…
  jitter: 120s           # …plus up to 2 minutes, so fleets do not fire in step
  tick_on_start: true

sessions:
  kill_grace: 30s        # SIGTERM at the time limit, SIGKILL this much later
  drain_grace: 5m        # on shutdown, running sessions get this long to finish
  on_restart: adopt      # after a crash: adopt sessions still running (watch them to their end), or kill

claims:
  lane_ttl: 2m           # lane slots are leases, renewed while their session runs
  sweep_every: 30s       # expired claims are released this often

# journal:               # retention (off unless keep is set), so a long-lived service stays small
#   keep: 90d            # delete what is older than the newest checkpoint at least this old…
#   archive_dir: archive # …after writing it here, as "lanekeeper journal export" does

# hooks:
#   before_session: [git, pull, --rebase, --autostash]   # one session at a time per repository
#   timeout: 5m
#   wait: 10m

lanes:
  - name: code
    cooldown: 180s       # rest after a session before the lane may run again
    timeout: 65m         # a session is stopped after this long
    concurrency: 1       # sessions of this lane at once
    target_share: 0.4    # the share of sessions this lane should get
    respawn:
      threshold: 0.65    # a session graded at least this…
      chain_limit: 1     # …is followed back to back this many times
    # arms: [claude-code:sonnet]          # which backend:model arms may run it (default: all)
    # prompt: "Work on the {lane} lane."  # {prompt} in the backend command
    # cwd: ~/src/project                  # overrides the backend's working directory
    # lock_file: /tmp/agent-code.lock     # also held with flock, so a legacy flock loop never runs beside it
  - name: triage
    cooldown: 180s
    timeout: 30m
    arms: [claude-code:sonnet]
  - name: cleanup
    parallel: false      # runs only when no other lane does

backends:
  - name: claude-code
    # argv, never a shell string. Placeholders: {prompt} {lane} {session_id} {model} {backend} {arm} {node} {state}
    command: [claude, -p, "{prompt}", --model, "{model}", --dangerously-skip-permissions]
    cwd: ~/src/project
    env: {}
    # quota: { command: [check-quota, --json] }   # a probe printing {"available", "windows": […]}
    # rest_after_failure: 30m   # without a quota report, a failed session blocks the backend this long (0s: never; at most 6h)
    models:
      - name: sonnet
        tier: 2
        cost: 3
      - name: opus
        tier: 3
        cost: 15
`;

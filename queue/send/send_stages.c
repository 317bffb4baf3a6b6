/*
 * send_stages.c -- the scheduler's hooks (send.h, struct sched_hooks) as
 * imc-send runs them: the conversion gate, local and remote dispatch,
 * transfermode and held destinations, bounces and delay notices.  The
 * scheduler's unit test starts from these and replaces what it fakes.
 */
#include "send.h"

/* a due recipient to its stage: 1 queued, 0 it may not go now */
static int stage_due(struct msg *m, unsigned long i, unsigned long now)
{
  if (m->q.r[i].kind == QI_LOCAL) { local_ready(m, i); return 1; }
  return remote_due(m, i, now);
}

/* a remote recipient while transfermode keeps mail in, or its destination is held */
static int stage_blocked(const struct qinfo_rcpt *r)
{
  return r->kind == QI_REMOTE && (!remote_allowed() || held_domain(r->target.s, r->target.len));
}

const struct sched_hooks stage_hooks = {
  conv_gate, conv_waiting, stage_due, stage_blocked, remote_dest_up, bounce_send, delay_send
};

/*
 * qmgr_sync.c - a small pool of threads that run fdatasync(2) for the queue manager
 *
 * Requests and completions are singly linked lists under one mutex; the
 * threads wait on a condition variable and, after each sync, write one byte to
 * a non-blocking pipe that the event loop reads (a full pipe already means
 * "look at the completions", so a failed write is harmless).
 *
 * Runs in:  qmgr (mail_owner)
 * API:      see qmgr_sync.h
 * Tests:    tests/e2e/test_delivery.py
 * Refs:     src/smtpd/smtpd.c (worker thread, done pipe)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/qmgr_sync.h"

struct qsync_item {
	struct qsync_item *next;
	int fd;
	int err;
	void *item;
};

struct qsync {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct qsync_item *todo, **todo_tail; /* FIFO */
	struct qsync_item *done_list;
	bool quit;
	pthread_t *threads;
	size_t nthreads, pending;
	int pipe[2];
	struct event *ev;
	qsync_done_fn *done;
	void *arg;
};

/* sync_thread - take a request, fdatasync, post the completion */
static void *sync_thread(void *arg)
{
	struct qsync *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct qsync_item *it;
		char one = 1;

		while (!s->todo && !s->quit)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->todo)
			break;
		it = s->todo;
		if (!(s->todo = it->next))
			s->todo_tail = &s->todo;
		pthread_mutex_unlock(&s->mu);
		it->err = fdatasync(it->fd) == 0 ? 0 : errno;
		pthread_mutex_lock(&s->mu);
		it->next = s->done_list;
		s->done_list = it;
		if (write(s->pipe[1], &one, 1) < 0) {
			/* the pipe is full: the loop has completions to read already */
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* reap - report every completion to the caller (loop thread) */
static void reap(struct qsync *s)
{
	struct qsync_item *list;

	pthread_mutex_lock(&s->mu);
	list = s->done_list;
	s->done_list = NULL;
	pthread_mutex_unlock(&s->mu);
	while (list) {
		struct qsync_item *it = list;

		list = it->next;
		s->pending--;
		s->done(it->item, it->err, s->arg);
		free(it);
	}
}

/* on_pipe - completions are waiting */
static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
	char tmp[256];

	(void)what;
	while (read(fd, tmp, sizeof(tmp)) > 0)
		;
	reap(arg);
}

/* qsync_new - start the threads */
struct qsync *qsync_new(struct event_base *evb, size_t nthreads, qsync_done_fn *done, void *arg)
{
	struct qsync *s = xcalloc(1, sizeof(*s));
	size_t i;

	s->nthreads = nthreads ? nthreads : 1;
	s->todo_tail = &s->todo;
	s->done = done;
	s->arg = arg;
	if (pipe2(s->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		fatal("qmgr: pipe: %m");
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->threads = xcalloc(s->nthreads, sizeof(*s->threads));
	for (i = 0; i < s->nthreads; i++)
		if (pthread_create(&s->threads[i], NULL, sync_thread, s) != 0)
			fatal("qmgr: cannot start a sync thread");
	s->ev = event_new(evb, s->pipe[0], EV_READ | EV_PERSIST, on_pipe, s);
	event_add(s->ev, NULL);
	return s;
}

/* qsync_submit - queue one fdatasync */
void qsync_submit(struct qsync *s, int fd, void *item)
{
	struct qsync_item *it = xcalloc(1, sizeof(*it));

	it->fd = fd;
	it->item = item;
	s->pending++;
	pthread_mutex_lock(&s->mu);
	*s->todo_tail = it;
	s->todo_tail = &it->next;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* qsync_pending - not reported yet */
size_t qsync_pending(const struct qsync *s)
{
	return s->pending;
}

/* qsync_free - drain, join, free */
void qsync_free(struct qsync **sp)
{
	struct qsync *s = *sp;
	size_t i;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->quit = true; /* the threads finish the queue first */
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	reap(s);
	event_free(s->ev);
	close(s->pipe[0]);
	close(s->pipe[1]);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->threads);
	free(s);
	*sp = NULL;
}

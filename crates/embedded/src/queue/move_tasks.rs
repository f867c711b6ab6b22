//! Message-move tasks: register one from a DLQ, move at its rate in the background, list, cancel.

use std::time::Duration;

use tokio::time::Instant;
use uuid::Uuid;

use super::engine::{Engine, Message, TaskState, name_of_arn};
use super::service::EmbeddedQueues;
use voucherdeck_core::domain::Timestamp;
use voucherdeck_core::ports::{BackendError, MoveTask, MoveTaskStatus, QueueRef, Result};

impl EmbeddedQueues {
    /// Runs a registered task in the background, moving `rate` messages a second.
    pub(super) fn run_move_task(
        &self,
        handle: String,
        dlq: String,
        destination: Option<String>,
        rate: u32,
    ) {
        let this = self.clone();
        tokio::spawn(async move {
            let period = Duration::from_millis(100);
            let per_tick = f64::from(rate.max(1)) * period.as_secs_f64();
            let mut budget = 0.0_f64;
            let mut ticker = tokio::time::interval(period);
            loop {
                ticker.tick().await;
                budget += per_tick;
                let whole = budget.floor() as u64;
                budget -= whole as f64;
                if this.move_step(&handle, &dlq, destination.as_deref(), whole) {
                    break;
                }
            }
        });
    }

    /// Moves up to `n` messages for a task; returns true when the task has finished.
    fn move_step(&self, handle: &str, dlq: &str, destination: Option<&str>, n: u64) -> bool {
        let mut engine = self.lock();
        let now = Instant::now();
        let Some(idx) = engine.tasks.iter().position(|t| t.task.handle == handle) else {
            return true;
        };
        if engine.tasks[idx].cancel {
            engine.tasks[idx].task.status = MoveTaskStatus::Cancelled;
            return true;
        }
        let to_move = engine.tasks[idx].task.to_move.unwrap_or(0);
        let mut moved_now = 0;
        let mut failure = None;
        while moved_now < n && engine.tasks[idx].task.moved + moved_now < to_move {
            match engine.move_one(dlq, destination, now) {
                Ok(true) => moved_now += 1,
                Ok(false) => break,
                Err(reason) => {
                    failure = Some(reason);
                    break;
                }
            }
        }
        let task = &mut engine.tasks[idx].task;
        task.moved += moved_now;
        if let Some(reason) = failure {
            task.status = MoveTaskStatus::Failed;
            task.failure_reason = Some(reason);
            return true;
        }
        let dlq_empty = engine
            .queues
            .get(dlq)
            .is_none_or(|q| !q.messages.iter().any(|m| m.visible_at <= now));
        let task = &mut engine.tasks[idx].task;
        if task.moved >= to_move || (dlq_empty && moved_now == 0 && n > 0) {
            task.status = MoveTaskStatus::Completed;
            return true;
        }
        false
    }
}

impl Engine {
    /// Checks a new task (one running task per DLQ, an existing destination other than the DLQ, a
    /// queue that is some queue's DLQ) and records it.
    pub(super) fn register_task(
        &mut self,
        dlq: &QueueRef,
        destination: Option<&QueueRef>,
        rate: Option<u32>,
    ) -> Result<String> {
        if self
            .tasks
            .iter()
            .any(|t| t.task.source_arn == dlq.arn && !t.task.status.is_finished())
        {
            return Err(BackendError::Conflict(format!(
                "a move task is already running for {}",
                dlq.name
            )));
        }
        if let Some(d) = destination {
            if d.name == dlq.name {
                return Err(BackendError::Invalid(
                    "the destination must differ from the source".into(),
                ));
            }
            self.queue(&d.name)?;
        }
        if self.sources_of(dlq).is_empty() {
            return Err(BackendError::Invalid(format!(
                "{} is not the dead-letter queue of any queue",
                dlq.name
            )));
        }
        let q = self.queue(&dlq.name)?;
        let to_move = q.messages.len() as u64;
        let handle = Uuid::new_v4().to_string();
        self.tasks.push(TaskState {
            task: MoveTask {
                handle: handle.clone(),
                status: MoveTaskStatus::Running,
                source_arn: dlq.arn.clone(),
                destination_arn: destination.map(|d| d.arn.clone()),
                rate,
                moved: 0,
                to_move: Some(to_move),
                started_at: Some(Timestamp::now()),
                failure_reason: None,
            },
            cancel: false,
        });
        Ok(handle)
    }

    /// Moves the first visible message of `dlq` to `destination` (or back to its source) as a new
    /// message. `Ok(false)`: nothing visible to move; `Err`: why the task fails.
    fn move_one(
        &mut self,
        dlq: &str,
        destination: Option<&str>,
        now: Instant,
    ) -> std::result::Result<bool, String> {
        let Some(q) = self.queues.get_mut(dlq) else {
            return Err(format!("queue {dlq} was deleted"));
        };
        let Some(pos) = q.messages.iter().position(|m| m.visible_at <= now) else {
            return Ok(false);
        };
        let target = match destination {
            Some(d) => d.to_string(),
            None => match q.messages[pos].dead_letter_source.as_deref() {
                Some(src) => name_of_arn(src).to_string(),
                None => {
                    return Err("a message has no known source queue; give a destination".into());
                }
            },
        };
        if !self.queues.contains_key(&target) {
            return Err(format!("destination queue {target} does not exist"));
        }
        let Some(m) = self
            .queues
            .get_mut(dlq)
            .and_then(|q| q.messages.remove(pos))
        else {
            return Ok(false);
        };
        if let Some(t) = self.queues.get_mut(&target) {
            let mut moved = Message::fresh(m.body, m.attributes, &m.sender_id, now, now);
            moved.group = m.group;
            t.messages.push_back(moved);
            t.notify.notify_waiters();
        }
        Ok(true)
    }

    /// The DLQ's ten newest tasks, newest first.
    pub(super) fn list_tasks(&self, dlq: &QueueRef) -> Vec<MoveTask> {
        self.tasks
            .iter()
            .rev()
            .filter(|t| t.task.source_arn == dlq.arn)
            .take(10)
            .map(|t| t.task.clone())
            .collect()
    }

    /// Asks a running task to stop; returns how many it had moved.
    pub(super) fn cancel_task(&mut self, handle: &str) -> Result<u64> {
        let t = self
            .tasks
            .iter_mut()
            .find(|t| t.task.handle == handle)
            .ok_or_else(|| BackendError::NotFound(format!("no move task {handle}")))?;
        if t.task.status != MoveTaskStatus::Running {
            return Err(BackendError::Invalid(
                "only a running task can be cancelled".into(),
            ));
        }
        t.cancel = true;
        t.task.status = MoveTaskStatus::Cancelling;
        Ok(t.task.moved)
    }
}

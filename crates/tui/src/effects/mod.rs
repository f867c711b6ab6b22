//! The only module that calls the services. Each pipeline the dashboard watches has a lane (its
//! monitor, worker, redrive and DLQ session); what a lane reports comes back tagged with the
//! pipeline's index (`Msg::For`), and an effect goes to the pipeline on screen unless it names
//! another (`Effect::On`).

mod dlq;
mod lane;

use tokio::sync::mpsc;

use voucherdeck_pipeline::Pipeline;

use super::msg::{Effect, Msg};

pub use lane::EffectsConfig;
use lane::Lane;

/// Runs effects and background feeds for every pipeline.
#[derive(Debug)]
pub struct Effects {
    lanes: Vec<Lane>,
    /// The pipeline on screen.
    active: usize,
}

/// A channel for lane `index` whose messages reach `tx` tagged with the index.
fn tagged(index: usize, tx: mpsc::Sender<Msg>) -> mpsc::Sender<Msg> {
    let (lane_tx, mut lane_rx) = mpsc::channel::<Msg>(256);
    tokio::spawn(async move {
        while let Some(msg) = lane_rx.recv().await {
            let msg = Msg::For {
                index,
                msg: Box::new(msg),
            };
            if tx.send(msg).await.is_err() {
                return;
            }
        }
    });
    lane_tx
}

impl Effects {
    /// One pipeline: its monitor and (unless disabled) its worker, reporting into `tx`.
    #[allow(clippy::needless_pass_by_value)] // the sender is the caller's to give away
    pub fn start(pipeline: Pipeline, tx: mpsc::Sender<Msg>, cfg: EffectsConfig) -> Effects {
        Effects::start_many(vec![(pipeline, cfg)], &tx, 0)
    }

    /// Every pipeline's lane, `active` on screen.
    pub fn start_many(
        pipelines: Vec<(Pipeline, EffectsConfig)>,
        tx: &mpsc::Sender<Msg>,
        active: usize,
    ) -> Effects {
        let lanes = pipelines
            .into_iter()
            .enumerate()
            .map(|(i, (p, cfg))| Lane::start(p, tagged(i, tx.clone()), cfg))
            .collect();
        Effects { lanes, active }
    }

    /// Runs one effect without waiting for it.
    pub fn run(&mut self, effect: Effect) {
        match effect {
            Effect::Bell => {
                use std::io::Write;
                let mut out = std::io::stdout();
                // BEL moves no cursor: safe between two frames.
                let _ = out.write_all(b"\x07").and_then(|()| out.flush());
            }
            Effect::OnScreen(index) if index < self.lanes.len() => self.active = index,
            Effect::OnScreen(_) => {}
            Effect::On { index, effect } => {
                if let Some(lane) = self.lanes.get_mut(index) {
                    lane.run(*effect);
                }
            }
            effect => {
                if let Some(lane) = self.lanes.get_mut(self.active) {
                    lane.run(effect);
                }
            }
        }
    }

    /// What stopping has to finish, in words (`None`: nothing), every pipeline's.
    pub fn in_progress(&self) -> Option<String> {
        let all: Vec<String> = self.lanes.iter().filter_map(Lane::in_progress).collect();
        (!all.is_empty()).then(|| all.join("; "))
    }

    /// Stops every feed and worker and waits for what they must finish (see `Lane::shutdown`).
    pub async fn shutdown(&mut self) {
        futures::future::join_all(self.lanes.iter_mut().map(Lane::shutdown)).await;
    }
}

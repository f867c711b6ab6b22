//! `voucherdeck keys create|list|revoke`: the intake API's keys.

use super::out::outln;
use serde_json::json;

use super::args::{KeyCreateArgs, KeysCommand};
use super::error::CliError;
use voucherdeck_core::domain::{ApiKeyRecord, KeySpec};
use voucherdeck_pipeline::Pipeline;

fn print_json(v: &serde_json::Value) -> Result<(), CliError> {
    outln!(
        "{}",
        serde_json::to_string_pretty(v).map_err(|e| CliError::Failed(e.to_string()))?
    )?;
    Ok(())
}

fn view(k: &ApiKeyRecord) -> serde_json::Value {
    json!({
        "id": k.id,
        "sender": k.sender,
        "role": k.role,
        "per_minute": k.per_minute,
        "daily": k.daily,
        "created_at": k.created_at.to_string(),
        "created_by": k.created_by,
        "revoked_at": k.revoked_at.map(|t| t.to_string()),
    })
}

pub async fn run(p: &Pipeline, command: KeysCommand) -> Result<(), CliError> {
    match command {
        KeysCommand::Create(a) => create(p, a).await,
        KeysCommand::List(a) => list(p, a.json).await,
        KeysCommand::Revoke { id, json } => {
            let k = p.revoke_key(id.trim().trim_start_matches("vdk_")).await?;
            if json {
                print_json(&view(&k))
            } else {
                outln!(
                    "revoked key {} of {}: every server refuses it within 10 s",
                    k.id,
                    k.sender
                )?;
                Ok(())
            }
        }
    }
}

async fn create(p: &Pipeline, a: KeyCreateArgs) -> Result<(), CliError> {
    let spec = KeySpec {
        sender: a.sender,
        role: a.role,
        per_minute: a.per_minute,
        daily: a.daily,
    };
    let made = p.create_key(&spec).await.map_err(|e| match e {
        voucherdeck_core::ports::BackendError::Invalid(m) => CliError::Usage(m),
        other => CliError::Backend(other),
    })?;
    let r = &made.record;
    if a.json {
        return print_json(&json!({
            "id": r.id, "key": made.key, "sender": r.sender, "role": r.role,
            "per_minute": r.per_minute, "daily": r.daily,
        }));
    }
    outln!("{}", made.key)?;
    eprintln!(
        "key {} for {} ({}, {}/min, {}/day). It is shown only now: keep it secret. Use it as \
         `Authorization: Bearer <key>`.",
        r.id, r.sender, r.role, r.per_minute, r.daily
    );
    Ok(())
}

async fn list(p: &Pipeline, json: bool) -> Result<(), CliError> {
    let keys = p.list_keys().await?;
    if json {
        return print_json(&serde_json::Value::Array(keys.iter().map(view).collect()));
    }
    if keys.is_empty() {
        outln!("no API keys (create one with `voucherdeck keys create --sender NAME`)")?;
        return Ok(());
    }
    outln!(
        "{:<16}  {:<20}  {:<8}  {:>7}  {:>8}  {:<24}  status",
        "id",
        "sender",
        "role",
        "per min",
        "per day",
        "created"
    )?;
    for k in &keys {
        let status = match k.revoked_at {
            Some(t) => format!("revoked {t}"),
            None => "active".into(),
        };
        outln!(
            "{:<16}  {:<20}  {:<8}  {:>7}  {:>8}  {:<24}  {status}",
            k.id,
            voucherdeck_core::domain::text::truncate(&k.sender, 20),
            k.role,
            k.per_minute,
            k.daily,
            k.created_at.to_string()
        )?;
    }
    Ok(())
}

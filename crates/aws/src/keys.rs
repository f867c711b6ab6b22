//! [`KeyStore`] on DynamoDB: the table `<table>-keys`, one item per key (`id`, and the record as
//! JSON: the sender, role, limits and the keyed hash; never the key).

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::call::Call;
use super::errors::has_code;
use super::items::Item;
use super::tables::ensure_table;
use voucherdeck_core::domain::TableDef;
use voucherdeck_core::domain::{ApiKeyRecord, Timestamp};
use voucherdeck_core::ports::{BackendError, KeyStore, RequestCounter, Result};

/// The key table.
#[derive(Debug, Clone)]
pub struct DynamoKeys {
    client: Client,
    requests: RequestCounter,
    table: String,
}

impl DynamoKeys {
    pub fn new(client: Client, requests: RequestCounter, table: String) -> Self {
        DynamoKeys {
            client,
            requests,
            table,
        }
    }

    fn call(&self, op: &'static str) -> Call<'_> {
        Call::new(&self.requests, op, &self.table)
    }

    fn item(&self, key: &ApiKeyRecord) -> Result<Item> {
        let json = serde_json::to_string(key).map_err(|e| {
            BackendError::Invalid(format!(
                "{}: key {} cannot be encoded: {e}",
                self.table, key.id
            ))
        })?;
        Ok(Item::from([
            ("id".to_string(), AttributeValue::S(key.id.clone())),
            ("record".to_string(), AttributeValue::S(json)),
        ]))
    }

    fn record(&self, item: &Item) -> Result<ApiKeyRecord> {
        match item.get("record") {
            Some(AttributeValue::S(json)) => serde_json::from_str(json).map_err(|e| {
                BackendError::Other(format!("{}: an unreadable key record: {e}", self.table))
            }),
            _ => Err(BackendError::Other(format!(
                "{}: an item without a key record",
                self.table
            ))),
        }
    }
}

#[async_trait]
impl KeyStore for DynamoKeys {
    async fn ensure_table(&self) -> Result<(String, bool)> {
        let created =
            ensure_table(&self.client, &self.requests, &TableDef::keys(&self.table)).await?;
        Ok((self.table.clone(), created))
    }

    async fn put_key(&self, key: &ApiKeyRecord) -> Result<()> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.item(key)?))
            .condition_expression("attribute_not_exists(id)")
            .send();
        let stored = self
            .call("dynamodb:PutItem")
            .send_unless(put, |e| has_code(e, "ConditionalCheckFailedException"))
            .await?;
        stored
            .map(|_| ())
            .ok_or_else(|| BackendError::Conflict(format!("{}: key {} exists", self.table, key.id)))
    }

    async fn get_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        let request = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send();
        let out = self.call("dynamodb:GetItem").send(request).await?;
        out.item().map(|i| self.record(i)).transpose()
    }

    async fn list_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        let request = self
            .client
            .scan()
            .table_name(&self.table)
            .into_paginator()
            .send();
        let mut pages = self.call("dynamodb:Scan").pages(request);
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await? {
            for item in page.items() {
                keys.push(self.record(item)?);
            }
        }
        keys.sort_by_key(|k| k.created_at);
        Ok(keys)
    }

    async fn revoke_key(&self, id: &str, at: Timestamp) -> Result<Option<ApiKeyRecord>> {
        let Some(mut key) = self.get_key(id).await? else {
            return Ok(None);
        };
        if key.revoked_at.is_some() {
            return Ok(Some(key));
        }
        key.revoked_at = Some(at);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.item(&key)?))
            .send();
        self.call("dynamodb:PutItem").send(put).await?;
        Ok(Some(key))
    }
}

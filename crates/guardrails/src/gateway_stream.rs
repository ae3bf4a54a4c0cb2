//! Redaction of streamed gateway responses (feature `gateway`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use futures::StreamExt;
use llmops_core::types::{ChatCompletionChunk, ChunkChoice, Delta};
use llmops_core::{ChatStream, Error};

use crate::analyzer::Analyzer;
use crate::anonymize::Anonymizer;
use crate::gateway_hook::{GuardEvent, PROVIDER};
use crate::guard::Action;
use crate::stream::{StreamOutput, StreamScanner};

/// The analyzer and anonymizer every stream of a hook shares.
pub(crate) struct StreamRedaction {
    pub(crate) analyzer: Arc<Analyzer>,
    pub(crate) anonymizer: Anonymizer,
}

/// Called once per stream with what was redacted, when anything was.
type Report = Box<dyn FnOnce(GuardEvent) + Send>;

/// A stream whose content passes through one [`StreamScanner`] per choice.
pub(crate) struct RedactingStream {
    upstream: ChatStream,
    redaction: Arc<StreamRedaction>,
    window_chars: usize,
    scanners: BTreeMap<u32, StreamScanner>,
    /// The last chunk read, whose id and model a closing chunk reuses.
    last_chunk: Option<ChatCompletionChunk>,
    ready: VecDeque<Result<ChatCompletionChunk, Error>>,
    ended: bool,
    event: GuardEvent,
    report: Option<Report>,
}

impl RedactingStream {
    /// Wraps `upstream`; `report` receives the event when the stream ends
    /// or is dropped.
    pub(crate) fn wrap(
        upstream: ChatStream,
        redaction: Arc<StreamRedaction>,
        window_chars: usize,
        report: Report,
    ) -> ChatStream {
        let state = RedactingStream {
            upstream,
            redaction,
            window_chars,
            scanners: BTreeMap::new(),
            last_chunk: None,
            ready: VecDeque::new(),
            ended: false,
            event: GuardEvent::empty(),
            report: Some(report),
        };
        Box::pin(futures::stream::unfold(state, |mut state| async move {
            let item = state.next_item().await?;
            Some((item, state))
        }))
    }

    async fn next_item(&mut self) -> Option<Result<ChatCompletionChunk, Error>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            match self.upstream.next().await {
                Some(Ok(chunk)) => {
                    let item = self.redact(chunk);
                    self.ended = item.is_err();
                    self.ready.push_back(item);
                }
                Some(Err(error)) => {
                    // The held-back text is checked before the error goes out.
                    self.flush_all();
                    self.ready.push_back(Err(error));
                    self.ended = true;
                }
                None => {
                    self.flush_all();
                    self.ended = true;
                }
            }
        }
    }

    /// Passes each choice's content through its scanner, and flushes the
    /// scanner of a choice that finishes in this chunk.
    fn redact(&mut self, mut chunk: ChatCompletionChunk) -> Result<ChatCompletionChunk, Error> {
        for choice in &mut chunk.choices {
            let had_content = choice.delta.content.is_some();
            let mut text = String::new();
            if let Some(content) = choice.delta.content.take() {
                let output = self.scanner(choice.index).push(&content);
                text.push_str(&self.take_text(output)?);
            }
            if choice.finish_reason.is_some() {
                if let Some(mut scanner) = self.scanners.remove(&choice.index) {
                    text.push_str(&self.take_text(scanner.finish())?);
                }
            }
            if had_content || !text.is_empty() {
                choice.delta.content = Some(text);
            }
        }
        self.last_chunk = Some(chunk.clone());
        Ok(chunk)
    }

    /// Sends the text still held back for choices that never finished, one
    /// closing chunk per choice.
    fn flush_all(&mut self) {
        let scanners = std::mem::take(&mut self.scanners);
        for (index, mut scanner) in scanners {
            let item = self
                .take_text(scanner.finish())
                .map(|text| self.closing_chunk(index, text));
            let failed = item.is_err();
            match item {
                Ok(Some(chunk)) => self.ready.push_back(Ok(chunk)),
                Ok(None) => {}
                Err(error) => self.ready.push_back(Err(error)),
            }
            if failed {
                break;
            }
        }
    }

    /// Builds a chunk that carries the last `text` of choice `index`, or
    /// none for no text.
    fn closing_chunk(&self, index: u32, text: String) -> Option<ChatCompletionChunk> {
        if text.is_empty() {
            return None;
        }
        let mut chunk = self.last_chunk.clone()?;
        chunk.usage = None;
        chunk.choices = vec![ChunkChoice {
            index,
            delta: Delta {
                content: Some(text),
                ..Delta::default()
            },
            finish_reason: None,
            logprobs: None,
            extra: Default::default(),
        }];
        Some(chunk)
    }

    fn scanner(&mut self, index: u32) -> &mut StreamScanner {
        self.scanners.entry(index).or_insert_with(|| {
            StreamScanner::new(
                Arc::clone(&self.redaction.analyzer),
                self.redaction.anonymizer.clone(),
            )
            .with_window_chars(self.window_chars)
        })
    }

    /// Records the findings of `output` and returns its text. A scanner
    /// error ends the stream rather than send text no guard checked.
    fn take_text(&mut self, output: crate::error::Result<StreamOutput>) -> Result<String, Error> {
        let output = output.map_err(|error| Error::Backend {
            provider: PROVIDER.to_owned(),
            message: format!("the output guards failed on a stream: {error}"),
        })?;
        for finding in &output.findings {
            self.event.action = self.event.action.max(Action::Redact);
            self.event.add_entity(finding.entity.to_string());
        }
        Ok(output.text)
    }
}

impl Drop for RedactingStream {
    fn drop(&mut self) {
        if self.event.is_empty() {
            return;
        }
        if let Some(report) = self.report.take() {
            report(std::mem::replace(&mut self.event, GuardEvent::empty()));
        }
    }
}

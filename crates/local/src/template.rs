//! The ChatML chat template of SmolLM2, rendered straight to token ids.

use llmops_core::types::{ChatMessage, MessageContent, Role};

use crate::error::LocalError;

/// The ChatML template: `<|im_start|>{role}\n{content}<|im_end|>\n` per
/// message, then `<|im_start|>assistant\n`.
///
/// Special tokens are inserted as ids between separately encoded text
/// segments, so message text can never produce them. This matches how a
/// tokenizer with special-token parsing splits the rendered template string.
#[derive(Debug, Clone)]
pub(crate) struct ChatTemplate {
    im_start: u32,
    im_end: u32,
    /// The system message the template inserts when the conversation does
    /// not start with one.
    default_system: Option<String>,
}

const SYSTEM_OPENING: &str = "<|im_start|>system";

impl ChatTemplate {
    /// Reads the default system message from the Jinja template source of
    /// `tokenizer.chat_template`, after checking it is a ChatML template.
    pub(crate) fn parse(source: &str, im_start: u32, im_end: u32) -> Result<Self, String> {
        if !source.contains("<|im_start|>") || !source.contains("<|im_end|>") {
            return Err("tokenizer.chat_template is not a ChatML template".to_owned());
        }
        Ok(ChatTemplate {
            im_start,
            im_end,
            default_system: default_system_message(source),
        })
    }

    /// Renders `messages` and the opening of the assistant's turn, encoding
    /// each text segment with `encode`.
    pub(crate) fn render(
        &self,
        messages: &[ChatMessage],
        encode: impl Fn(&str) -> Result<Vec<u32>, LocalError>,
    ) -> Result<Vec<u32>, LocalError> {
        if messages.is_empty() {
            return Err(LocalError::invalid_request(
                "messages",
                "the conversation is empty; send at least one message",
            ));
        }
        let mut ids = Vec::new();
        let mut push_turn = |role: &str, content: &str| -> Result<(), LocalError> {
            ids.push(self.im_start);
            ids.extend(encode(&format!("{role}\n{content}"))?);
            ids.push(self.im_end);
            ids.extend(encode("\n")?);
            Ok(())
        };

        let starts_with_system = template_role(&messages[0], 0)? == "system";
        if let (false, Some(default)) = (starts_with_system, &self.default_system) {
            push_turn("system", default)?;
        }
        for (index, message) in messages.iter().enumerate() {
            let role = template_role(message, index)?;
            let content = message_text(message, index)?;
            push_turn(role, &content)?;
        }

        ids.push(self.im_start);
        ids.extend(encode("assistant\n")?);
        Ok(ids)
    }
}

/// Extracts the text between `<|im_start|>system` plus a newline and the
/// next `<|im_end|>`, accepting a literal newline or a `\n` escape.
fn default_system_message(source: &str) -> Option<String> {
    let after_opening = &source[source.find(SYSTEM_OPENING)? + SYSTEM_OPENING.len()..];
    let body = after_opening
        .strip_prefix('\n')
        .or_else(|| after_opening.strip_prefix("\\n"))?;
    let message = &body[..body.find("<|im_end|>")?];
    // A Jinja expression here would make the message depend on the input.
    if message.is_empty() || message.contains("{{") || message.contains("{%") {
        return None;
    }
    Some(message.replace("\\n", "\n"))
}

/// Returns the role name the template writes for a message.
fn template_role(message: &ChatMessage, index: usize) -> Result<&'static str, LocalError> {
    match &message.role {
        Role::System | Role::Developer => Ok("system"),
        Role::User => Ok("user"),
        Role::Assistant => Ok("assistant"),
        Role::Tool | Role::Function => Ok("tool"),
        other => Err(LocalError::invalid_request(
            format!("messages[{index}].role"),
            format!(
                "role {:?} is not supported by the local model; use system, developer, user, \
                 assistant or tool",
                other.as_str()
            ),
        )),
    }
}

/// Returns the text of a message, rejecting content the model cannot read.
fn message_text(message: &ChatMessage, index: usize) -> Result<String, LocalError> {
    if message
        .tool_calls
        .as_ref()
        .is_some_and(|calls| !calls.is_empty())
    {
        return Err(LocalError::invalid_request(
            format!("messages[{index}].tool_calls"),
            "the local model does not call tools, so the conversation cannot contain tool calls",
        ));
    }
    match &message.content {
        None => Ok(message.refusal.clone().unwrap_or_default()),
        Some(MessageContent::Text(text)) => Ok(text.clone()),
        Some(MessageContent::Parts(parts)) => {
            let mut text = String::new();
            for (part_index, part) in parts.iter().enumerate() {
                match (&part.kind[..], &part.text) {
                    ("text", Some(part_text)) => text.push_str(part_text),
                    _ => {
                        return Err(LocalError::invalid_request(
                            format!("messages[{index}].content[{part_index}]"),
                            format!(
                                "content part type {:?} is not supported; the local model reads \
                                 text parts only",
                                part.kind
                            ),
                        ));
                    }
                }
            }
            Ok(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use llmops_core::types::ContentPart;

    use super::*;

    const SMOLLM2_TEMPLATE: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    /// Renders with a fake encoder that keeps text visible: each text
    /// segment becomes one id per byte, offset by 1000.
    fn render_visible(messages: &[ChatMessage]) -> Result<String, LocalError> {
        let template = ChatTemplate::parse(SMOLLM2_TEMPLATE, 1, 2).unwrap();
        let ids = template.render(messages, |text| {
            Ok(text.bytes().map(|byte| 1000 + u32::from(byte)).collect())
        })?;
        Ok(ids
            .iter()
            .map(|&id| match id {
                1 => "<S>".to_owned(),
                2 => "<E>".to_owned(),
                other => char::from((other - 1000) as u8).to_string(),
            })
            .collect())
    }

    #[test]
    fn default_system_read_from_template() {
        let template = ChatTemplate::parse(SMOLLM2_TEMPLATE, 1, 2).unwrap();
        assert_eq!(
            template.default_system.as_deref(),
            Some("You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        );
    }

    #[test]
    fn default_system_inserted_before_user() {
        let rendered = render_visible(&[ChatMessage::user("Hi")]).unwrap();
        assert_eq!(
            rendered,
            "<S>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<E>\n\
             <S>user\nHi<E>\n<S>assistant\n"
        );
    }

    #[test]
    fn own_system_replaces_default() {
        let messages = [ChatMessage::system("Be brief."), ChatMessage::user("Hi")];
        let rendered = render_visible(&messages).unwrap();
        assert_eq!(
            rendered,
            "<S>system\nBe brief.<E>\n<S>user\nHi<E>\n<S>assistant\n"
        );
    }

    #[test]
    fn developer_counts_as_system() {
        let messages = [
            ChatMessage::new(Role::Developer, "Rules."),
            ChatMessage::user("Hi"),
        ];
        let rendered = render_visible(&messages).unwrap();
        assert!(rendered.starts_with("<S>system\nRules.<E>\n"), "{rendered}");
        assert!(!rendered.contains("SmolLM"), "{rendered}");
    }

    #[test]
    fn late_system_still_gets_default() {
        // The template checks only the first message.
        let messages = [ChatMessage::user("Hi"), ChatMessage::system("Late.")];
        let rendered = render_visible(&messages).unwrap();
        assert!(
            rendered.starts_with("<S>system\nYou are a helpful"),
            "{rendered}"
        );
        assert!(rendered.contains("<S>system\nLate.<E>"), "{rendered}");
    }

    #[test]
    fn multi_turn_with_tool_result() {
        let messages = [
            ChatMessage::system("S"),
            ChatMessage::user("U"),
            ChatMessage::assistant("A"),
            ChatMessage::tool("call_1", "T"),
        ];
        let rendered = render_visible(&messages).unwrap();
        assert_eq!(
            rendered,
            "<S>system\nS<E>\n<S>user\nU<E>\n<S>assistant\nA<E>\n<S>tool\nT<E>\n<S>assistant\n"
        );
    }

    #[test]
    fn empty_conversation_rejected() {
        let error = render_visible(&[]).unwrap_err();
        assert!(
            matches!(error, LocalError::InvalidRequest { ref param, .. } if param == "messages")
        );
    }

    #[test]
    fn unknown_role_rejected() {
        let messages = [
            ChatMessage::user("a"),
            ChatMessage::new(Role::from("critic"), "b"),
        ];
        let error = render_visible(&messages).unwrap_err();
        assert!(
            matches!(error, LocalError::InvalidRequest { ref param, .. } if param == "messages[1].role")
        );
    }

    #[test]
    fn image_part_rejected() {
        let mut image = ContentPart::text("");
        image.kind = "image_url".to_owned();
        image.text = None;
        let mut message = ChatMessage::user("");
        message.content = Some(MessageContent::Parts(vec![
            ContentPart::text("look"),
            image,
        ]));
        let error = render_visible(&[message]).unwrap_err();
        assert!(
            matches!(error, LocalError::InvalidRequest { ref param, .. } if param == "messages[0].content[1]")
        );
    }

    #[test]
    fn text_parts_joined() {
        let mut message = ChatMessage::user("");
        message.content = Some(MessageContent::Parts(vec![
            ContentPart::text("a"),
            ContentPart::text("b"),
        ]));
        let rendered = render_visible(&[ChatMessage::system("s"), message]).unwrap();
        assert!(rendered.contains("<S>user\nab<E>"), "{rendered}");
    }

    #[test]
    fn non_chatml_template_rejected() {
        assert!(ChatTemplate::parse("{{ bos_token }}[INST]", 1, 2).is_err());
    }

    #[test]
    fn escaped_newline_template() {
        let source = r"{{ '<|im_start|>system\nDefault here<|im_end|>\n' }}";
        let template = ChatTemplate::parse(source, 1, 2).unwrap();
        assert_eq!(template.default_system.as_deref(), Some("Default here"));
    }
}

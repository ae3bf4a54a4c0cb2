//! The chat prompt both engines process.

/// Context window, in tokens, that both engines are configured with. The
/// prompt (314 tokens with the SmolLM2 chat template) plus 128 generated
/// tokens fit inside it.
pub(crate) const CONTEXT_TOKENS: usize = 1024;

/// System message of the benchmark conversation.
pub(crate) const SYSTEM: &str = "You are a careful assistant who writes long, detailed answers.";

/// User message of the benchmark conversation: an invented report followed
/// by a request that makes the model write well past the token limit.
pub(crate) const USER: &str = "Read the following report and then answer.\n\n\
The town of Marlow Creek draws its drinking water from two sources: a shallow \
reservoir north of the railway and three deep wells on the eastern ridge. In \
spring the reservoir fills with snowmelt and supplies about seventy percent of \
the daily demand, while the wells cover the rest. During the dry months of \
July and August the reservoir level falls by as much as four meters, and the \
utility switches most of the load to the wells, which cost more to run because \
the pumps must lift the water nearly ninety meters. Last year the council \
approved a plan to replace the oldest cast-iron mains in the market district, \
where leaks lose an estimated twelve percent of the treated water before it \
reaches any tap. The work is scheduled in four phases over six years so that \
no street is closed for more than three weeks at a time. Residents have asked \
whether the plan will raise their bills; the utility expects an increase of \
roughly five percent in the first two years, followed by savings once the \
leaks are repaired and less water has to be pumped from the wells. A citizen \
panel meets every quarter to review progress, publish the measured leak rate \
and decide whether the next phase can start on time.\n\n\
Explain in detail how the water system of Marlow Creek works across the \
seasons, why the repair plan was approved, what it will cost residents, and \
what could go wrong during each of the four phases.";

import { phrase } from '../papers/fts-query.js';

/** A catalogue topic: what readers pick on the subscribe page. */
export interface Topic {
  slug: string;
  name: string;
  description: string;
  /** Words and phrases that mean this topic; a trailing * matches any ending. */
  terms: string[];
  /** Typed keywords that mean this whole topic (besides its slug and name). */
  aliases?: string[];
}

// Each topic lists the synonyms and phrases that papers on it really use, so a
// reader who picks "Interpretability" also gets saliency maps, feature
// attribution and probing papers. Terms go through FTS5's porter stemmer
// ("attributions" matches "attribution"). Broad single words that many
// off-topic abstracts use ("optimize", "attention") are avoided or phrased.
export const TOPICS: readonly Topic[] = [
  {
    slug: 'interpretability',
    name: 'Interpretability & explainability',
    description: 'Understanding what models compute: saliency, feature attribution, probing, mechanistic circuits.',
    aliases: ['explainability', 'explainable ai', 'xai', 'model interpretability', 'mechanistic interpretability'],
    terms: ['interpretability', 'interpretable', 'explainability', 'explainable', 'xai', 'saliency', 'feature attribution', 'attribution method*', 'attribution score*', 'integrated gradients', 'probing', 'linear probe*', 'mechanistic', 'sparse autoencoder*', 'circuit discovery', 'activation patching', 'relevance patching', 'input gradients', 'shapley', 'explanation method*', 'model explanation*', 'grad-cam', 'feature visualization', 'dictionary learning'],
  },
  {
    slug: 'llm-reasoning',
    name: 'LLM reasoning',
    description: 'Chain-of-thought, math and logic reasoning, test-time compute and reasoning models.',
    terms: ['reasoning', 'chain of thought', 'chain-of-thought', 'test-time compute', 'test-time scaling', 'self-consistency', 'mathematical reasoning', 'slow thinking', 'reasoning model*', 'reasoning trace*'],
  },
  {
    slug: 'diffusion-models',
    name: 'Diffusion & flow models',
    description: 'Denoising diffusion, score-based and flow-matching generative models.',
    aliases: ['diffusion', 'diffusion model', 'flow matching', 'score-based models'],
    terms: ['diffusion model*', 'denoising diffusion', 'diffusion-based', 'score-based', 'score matching', 'ddpm', 'latent diffusion', 'flow matching', 'rectified flow', 'denoising process', 'text-to-image diffusion'],
  },
  {
    slug: 'optimizers',
    name: 'Optimizers & training algorithms',
    description: 'Adam, SGD, Muon and friends: learning rates, second-order methods, convergence of training.',
    aliases: ['optimizer', 'training optimizers', 'optimization algorithms', 'deep learning optimizers'],
    terms: ['optimizer', 'optimizers', 'adam', 'adamw', 'sgd', 'stochastic gradient descent', 'learning rate schedule*', 'adaptive learning rate*', 'layerwise learning rate*', 'muon', 'shampoo', 'lion', 'second-order optimization', 'second-order optimizer*', 'adaptive gradient', 'optimization algorithm*', 'optimization method*'],
  },
  {
    slug: 'quantization-compression',
    name: 'Quantization & compression',
    description: 'Low-bit weights and activations, pruning, sparsity and distillation for smaller, faster models.',
    terms: ['quantization', 'quantized', 'low-bit', '8-bit', '4-bit', 'pruning', 'model compression', 'knowledge distillation', 'distillation', 'binarized', 'weight sharing'],
  },
  {
    slug: 'efficient-finetuning',
    name: 'Parameter-efficient fine-tuning',
    description: 'LoRA, adapters, prompt tuning and memory-efficient ways to adapt large models.',
    aliases: ['peft', 'lora', 'parameter-efficient fine-tuning'],
    terms: ['lora', 'low-rank adaptation', 'parameter-efficient', 'peft', 'adapter*', 'prompt tuning', 'prefix tuning', 'memory-efficient fine-tuning', 'low-rank projection', 'fine-tuning'],
  },
  {
    slug: 'reinforcement-learning',
    name: 'Reinforcement learning',
    description: 'Policy gradients, actor-critic, model-based RL and RL for language models.',
    aliases: ['rl', 'deep reinforcement learning'],
    terms: ['reinforcement learning', 'policy gradient*', 'policy optimization', 'actor-critic', 'actor critic', 'q-learning', 'model-based reinforcement', 'reward', 'rlvr', 'grpo', 'ppo', 'markov decision'],
  },
  {
    slug: 'alignment-safety',
    name: 'Alignment & AI safety',
    description: 'RLHF, preference optimisation, jailbreaks, red-teaming and safe behaviour of models.',
    aliases: ['ai alignment', 'ai safety', 'llm alignment', 'rlhf'],
    terms: ['alignment', 'rlhf', 'human feedback', 'preference optimization', 'dpo', 'reward model*', 'jailbreak*', 'red teaming', 'red-teaming', 'ai safety', 'harmful', 'guardrail*'],
  },
  {
    slug: 'agents',
    name: 'LLM agents & tool use',
    description: 'Agents that plan, call tools, browse and act over many turns.',
    aliases: ['ai agents', 'agentic ai'],
    terms: ['agent', 'agents', 'agentic', 'tool use', 'tool-use', 'function calling', 'multi-agent', 'web agent*', 'multi-turn'],
  },
  {
    slug: 'vision-language',
    name: 'Vision-language & multimodal models',
    description: 'VLMs, image-text models, multimodal perception and visual question answering.',
    aliases: ['vlm', 'vlms', 'multimodal llms', 'vision-language models'],
    terms: ['vision-language', 'vision language', 'multimodal', 'multi-modal', 'vlm*', 'image-text', 'visual question answering', 'clip', 'audio-language'],
  },
  {
    slug: 'image-generation',
    name: 'Image generation & editing',
    description: 'Text-to-image, image editing, GANs and image synthesis.',
    terms: ['text-to-image', 'image generation', 'image editing', 'image synthesis', 'generative adversarial', 'gan', 'gans', 'generative image', 'conditional generation'],
  },
  {
    slug: 'computer-vision',
    name: 'Computer vision',
    description: 'Detection, segmentation, optical flow and visual recognition.',
    terms: ['object detection', 'yolo*', 'segmentation', 'optical flow', 'image classification', 'vision model*', 'vision transformer*', 'convolutional', 'cnn', 'cnns', 'mnist', 'cifar*', 'imagenet'],
  },
  {
    slug: 'continual-learning',
    name: 'Continual learning & adaptation',
    description: 'Learning without forgetting, test-time and domain adaptation under distribution shift.',
    terms: ['continual learning', 'catastrophic forgetting', 'lifelong learning', 'incremental learning', 'test-time adaptation', 'domain adaptation', 'distribution shift', 'covariate shift', 'domain generalization', 'online adaptation'],
  },
  {
    slug: 'in-context-learning',
    name: 'In-context learning',
    description: 'How and why transformers learn from examples in the prompt.',
    aliases: ['icl'],
    terms: ['in-context learning', 'in-context', 'icl', 'few-shot', 'meta-learning', 'learning to learn'],
  },
  {
    slug: 'architectures',
    name: 'Architectures: transformers, MoE, state-space',
    description: 'New network designs: attention variants, mixture-of-experts, state-space models, KANs.',
    terms: ['transformer architecture*', 'self-attention', 'attention mechanism', 'mixture-of-experts', 'mixture of experts', 'moe', 'state space model*', 'mamba', 'kolmogorov-arnold', 'residual connection*', 'positional encoding*', 'architecture design'],
  },
  {
    slug: 'training-dynamics',
    name: 'Training dynamics & deep learning theory',
    description: 'Generalisation, loss landscapes, normalisation, activations and what happens during training.',
    terms: ['generalization', 'training dynamics', 'learning dynamics', 'loss landscape', 'neural collapse', 'double descent', 'implicit bias', 'neural tangent', 'vanishing gradient', 'activation function*', 'normalization layer*', 'batch normalization', 'layer normalization', 'initialization', 'backpropagation', 'information bottleneck'],
  },
  {
    slug: 'privacy-federated',
    name: 'Privacy & federated learning',
    description: 'Federated training, differential privacy, gradient leakage and data valuation.',
    aliases: ['privacy-preserving ml'],
    terms: ['federated learning', 'federated', 'differential privacy', 'differentially private', 'privacy', 'membership inference', 'gradient inversion', 'gradient leakage', 'data valuation', 'machine unlearning'],
  },
  {
    slug: 'robustness-security',
    name: 'Robustness & adversarial ML',
    description: 'Adversarial examples and training, backdoors, poisoning and certified robustness.',
    aliases: ['adversarial', 'adversarial robustness', 'adversarial ml', 'adversarial attacks'],
    terms: ['adversarial', 'adversarial training', 'adversarial example*', 'adversarial attack*', 'robustness', 'backdoor*', 'poisoning', 'certified robustness', 'blind spot*'],
  },
  {
    slug: 'graphs',
    name: 'Graph learning & knowledge graphs',
    description: 'Graph neural networks, message passing and knowledge graphs.',
    aliases: ['gnn', 'gnns', 'graph neural networks', 'graph learning'],
    terms: ['graph neural network*', 'gnn', 'gnns', 'message passing', 'knowledge graph*', 'graph representation', 'node classification', 'link prediction'],
  },
  {
    slug: 'scientific-ml',
    name: 'Scientific ML & neural operators',
    description: 'Physics-informed networks, PDE solvers, neural operators and dynamical systems.',
    aliases: ['neural operators', 'physics-informed neural networks', 'scientific machine learning'],
    terms: ['physics-informed', 'pde', 'pdes', 'partial differential equation*', 'neural operator*', 'neural differential equation*', 'neural ode*', 'differential equation*', 'dynamical system*', 'chaotic dynamics', 'inverse problem*'],
  },
  {
    slug: 'speech-audio',
    name: 'Speech & audio',
    description: 'Speech recognition and synthesis, audio understanding and generation.',
    terms: ['speech', 'audio', 'speech recognition', 'asr', 'text-to-speech', 'tts', 'spoken language', 'speaker'],
  },
  {
    slug: 'health-medicine',
    name: 'ML for health & medicine',
    description: 'Clinical prediction, medical imaging, mental health and health records.',
    aliases: ['medical', 'medicine', 'healthcare', 'health', 'clinical', 'medical ai'],
    terms: ['medical', 'clinical', 'healthcare', 'health record*', 'patient*', 'mental health', 'disease', 'diagnosis', 'suicidal', 'depression', 'biomedical'],
  },
  {
    slug: 'self-supervised',
    name: 'Self-supervised & representation learning',
    description: 'Contrastive and masked pre-training, embeddings and learned representations.',
    aliases: ['self-supervised learning', 'representation learning'],
    terms: ['self-supervised', 'contrastive learning', 'contrastive', 'representation learning', 'masked autoencoder*', 'pretraining', 'pre-training', 'embedding model*', 'projection head'],
  },
  {
    slug: 'data-centric',
    name: 'Data-centric ML',
    description: 'Dataset condensation, data selection, curricula, synthetic data and data quality.',
    terms: ['dataset condensation', 'dataset distillation', 'data selection', 'data quality', 'synthetic data', 'curriculum', 'data valuation', 'data augmentation', 'labeled data', 'label noise'],
  },
  {
    slug: 'efficient-inference',
    name: 'Efficient LLM training & inference',
    description: 'Long context, KV caches, speculative decoding and memory-efficient training.',
    terms: ['long context', 'long-context', 'kv cache', 'speculative decoding', 'efficient inference', 'inference efficiency', 'memory-efficient', 'memory efficient', 'throughput', 'latency', 'shared-prefix'],
  },
  {
    slug: 'retrieval-rag',
    name: 'Retrieval & RAG',
    description: 'Retrieval-augmented generation, neural ranking, search and text embeddings.',
    aliases: ['rag', 'retrieval-augmented generation'],
    terms: ['retrieval-augmented', 'retrieval augmented', 'rag', 'retrieval', 'information retrieval', 'neural ranking', 'ranking model*', 'text embedding*', 'dense retrieval', 'reranking'],
  },
];

const BY_SLUG = new Map(TOPICS.map((t) => [t.slug, t]));

/** The topic with this slug, if any. */
export function findTopic(slug: string): Topic | undefined {
  return BY_SLUG.get(slug);
}

/** Every topic slug, for validation. */
export const TOPIC_SLUGS = TOPICS.map((t) => t.slug);

/** The FTS5 expression of a topic: any of its terms. */
export function topicQuery(topic: Topic): string {
  return topic.terms
    .map((t) => phrase(t.replace(/\*$/, ''), t.endsWith('*')))
    .filter((p): p is string => p !== null)
    .join(' OR ');
}

/** Human summary of a subscriber's interests: "Diffusion & flow models, “sparse autoencoders” and 2 more". */
export function describeInterests(s: { topics: string[]; keywords: string[] }): string {
  const names = [...s.topics.map((t) => findTopic(t)?.name ?? t), ...s.keywords.map((k) => `“${k}”`)];
  if (names.length <= 3) return names.join(names.length === 2 ? ' and ' : ', ').replace(/, ([^,]*)$/, ' and $1');
  return `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
}

/**
 * The same summary without quoting typed keywords ("Diffusion & flow models and
 * 2 keywords of your own"): for confirmation mail and pages, which reach an
 * address before its owner chose anything, so must not carry a requester's text.
 */
export function describeInterestsUnquoted(s: { topics: string[]; keywords: string[] }): string {
  const names = s.topics.map((t) => findTopic(t)?.name ?? 'a topic');
  if (s.keywords.length) names.push(`${s.keywords.length} ${s.keywords.length === 1 ? 'keyword' : 'keywords'} of your own`);
  if (names.length <= 3) return names.join(names.length === 2 ? ' and ' : ', ').replace(/, ([^,]*)$/, ' and $1');
  return `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
}

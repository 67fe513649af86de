/** The original papers the knowledge base (and every rule and hover built on it) rests on. */

export interface Reference {
  /** Short citation used inline, e.g. "He et al. 2015". */
  short: string;
  /** Full citation. */
  full: string;
  url: string;
}

function ref(short: string, full: string, url: string): Reference {
  return { short, full, url };
}

export const REFERENCES = {
  glorot2010: ref(
    'Glorot & Bengio 2010',
    'X. Glorot, Y. Bengio. Understanding the difficulty of training deep feedforward neural networks. AISTATS 2010.',
    'https://proceedings.mlr.press/v9/glorot10a.html',
  ),
  he2015: ref(
    'He et al. 2015',
    'K. He, X. Zhang, S. Ren, J. Sun. Delving Deep into Rectifiers: Surpassing Human-Level Performance on ImageNet Classification. ICCV 2015.',
    'https://arxiv.org/abs/1502.01852',
  ),
  lecun1998: ref(
    'LeCun et al. 1998',
    'Y. LeCun, L. Bottou, G. Orr, K.-R. Müller. Efficient BackProp. In Neural Networks: Tricks of the Trade, 1998.',
    'https://doi.org/10.1007/3-540-49430-8_2',
  ),
  klambauer2017: ref(
    'Klambauer et al. 2017',
    'G. Klambauer, T. Unterthiner, A. Mayr, S. Hochreiter. Self-Normalizing Neural Networks. NeurIPS 2017.',
    'https://arxiv.org/abs/1706.02515',
  ),
  ioffe2015: ref(
    'Ioffe & Szegedy 2015',
    'S. Ioffe, C. Szegedy. Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift. ICML 2015.',
    'https://arxiv.org/abs/1502.03167',
  ),
  pascanu2013: ref(
    'Pascanu et al. 2013',
    'R. Pascanu, T. Mikolov, Y. Bengio. On the difficulty of training recurrent neural networks. ICML 2013.',
    'https://arxiv.org/abs/1211.5063',
  ),
  saxe2014: ref(
    'Saxe et al. 2014',
    'A. Saxe, J. McClelland, S. Ganguli. Exact solutions to the nonlinear dynamics of learning in deep linear neural networks. ICLR 2014.',
    'https://arxiv.org/abs/1312.6120',
  ),
  ba2016: ref('Ba et al. 2016', 'J. L. Ba, J. R. Kiros, G. E. Hinton. Layer Normalization. 2016.', 'https://arxiv.org/abs/1607.06450'),
  wu2018: ref('Wu & He 2018', 'Y. Wu, K. He. Group Normalization. ECCV 2018.', 'https://arxiv.org/abs/1803.08494'),
  srivastava2014: ref(
    'Srivastava et al. 2014',
    'N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever, R. Salakhutdinov. Dropout: A Simple Way to Prevent Neural Networks from Overfitting. JMLR 15, 2014.',
    'https://jmlr.org/papers/v15/srivastava14a.html',
  ),
  nair2010: ref('Nair & Hinton 2010', 'V. Nair, G. E. Hinton. Rectified Linear Units Improve Restricted Boltzmann Machines. ICML 2010.', 'https://www.cs.toronto.edu/~hinton/absps/reluICML.pdf'),
  maas2013: ref(
    'Maas et al. 2013',
    'A. L. Maas, A. Y. Hannun, A. Y. Ng. Rectifier Nonlinearities Improve Neural Network Acoustic Models. ICML 2013 workshop.',
    'https://ai.stanford.edu/~amaas/papers/relu_hybrid_icml2013_final.pdf',
  ),
  clevert2016: ref(
    'Clevert et al. 2016',
    'D.-A. Clevert, T. Unterthiner, S. Hochreiter. Fast and Accurate Deep Network Learning by Exponential Linear Units (ELUs). ICLR 2016.',
    'https://arxiv.org/abs/1511.07289',
  ),
  hendrycks2016: ref('Hendrycks & Gimpel 2016', 'D. Hendrycks, K. Gimpel. Gaussian Error Linear Units (GELUs). 2016.', 'https://arxiv.org/abs/1606.08415'),
  ramachandran2017: ref('Ramachandran et al. 2017', 'P. Ramachandran, B. Zoph, Q. V. Le. Searching for Activation Functions. 2017.', 'https://arxiv.org/abs/1710.05941'),
  misra2019: ref('Misra 2019', 'D. Misra. Mish: A Self Regularized Non-Monotonic Activation Function. BMVC 2020 (arXiv 2019).', 'https://arxiv.org/abs/1908.08681'),
} as const satisfies Record<string, Reference>;

export type ReferenceKey = keyof typeof REFERENCES;

/** Markdown link for a reference: "[He et al. 2015](https://...)". */
export function citeMarkdown(key: ReferenceKey): string {
  const r = REFERENCES[key];
  return `[${r.short}](${r.url})`;
}

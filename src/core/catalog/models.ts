/** The built-in architectures (core/models builds them); any other model is a workspace model.json or a saved model folder. */

export const ARCHITECTURES = ['mlp', 'cnn', 'resnet18'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

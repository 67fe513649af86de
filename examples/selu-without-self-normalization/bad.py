"""A SELU network without its conditions: default init, plain Dropout and a BatchNorm in the stack.

GL104 reports each broken condition. At this depth the prediction (and the probe) still sees a
healthy gradient at initialization, so the findings are information and quote the predicted numbers
(the first SELU layer's output std is ~0.76 instead of SELU's fixed point 1); in deep SELU stacks
the drift compounds.
"""
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(300, activation="selu", input_shape=(100,)),
    layers.Dropout(0.2),
    layers.Dense(100, activation="selu"),
    layers.BatchNormalization(),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="nadam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

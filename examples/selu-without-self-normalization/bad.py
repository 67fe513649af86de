"""A SELU network without its conditions: default init, plain Dropout and a BatchNorm in the stack."""
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

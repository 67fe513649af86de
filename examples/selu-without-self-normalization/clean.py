"""A self-normalizing network: LeCun-normal weights, AlphaDropout, no BatchNorm."""
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(300, activation="selu", kernel_initializer="lecun_normal", input_shape=(100,)),
    layers.AlphaDropout(0.05),
    layers.Dense(100, activation="selu", kernel_initializer="lecun_normal"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="nadam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

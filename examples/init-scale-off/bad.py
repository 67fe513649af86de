"""A classifier initialized with N(0, 1) weights: on 784 inputs the first layer's outputs have std ~28.

Try: gradient-lens check examples/init-scale-off/bad.py
"""
from tensorflow import keras
from tensorflow.keras import layers, initializers

(x_train, y_train), _ = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255.0

unit_normal = initializers.RandomNormal(mean=0.0, stddev=1.0)
model = keras.Sequential([
    layers.Input(shape=(784,)),
    layers.Dense(512, activation="relu", kernel_initializer=unit_normal),
    layers.Dense(256, activation="relu", kernel_initializer=unit_normal),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=3, batch_size=128)
